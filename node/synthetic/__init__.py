"""Synthetic, obviously made-up borough data: people, households and agency extracts for demos.

`write_extracts` writes each agency's import files for a borough; `generate_population` gives the
true people behind them; `variants` holds the data-entry faults, reused by the matching benchmark.
"""

from node.synthetic.extracts import ExtractFile, iter_person_rows, write_extracts
from node.synthetic.population import Household, Person, generate_population

__all__ = [
    "ExtractFile",
    "Household",
    "Person",
    "generate_population",
    "iter_person_rows",
    "write_extracts",
]
