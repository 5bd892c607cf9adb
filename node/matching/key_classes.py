"""The classes of match key, described once: each one's name, strength, the words a hub worker
reads for it, and what it means, for this release's key set and the classes of older ones.

Why each class of the current set exists, and how its strength was measured, is said beside
KEY_CLASSES. A candidate link or an existence check names the class of the key that hit; `label`
turns that name into words, whichever key set the name came from.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from enum import StrEnum


class Strength(StrEnum):
    """How sure a shared key makes us that two records are one person."""

    CERTAIN = "certain"
    STRONG = "strong"
    PROBABLE = "probable"

    @property
    def rank(self) -> int:
        """Return 3 for CERTAIN, 2 for STRONG, 1 for PROBABLE: higher is stronger."""
        return _RANK[self]


_RANK = {Strength.CERTAIN: 3, Strength.STRONG: 2, Strength.PROBABLE: 1}


def strongest(strengths: Iterable[Strength]) -> Strength | None:
    """Return the strongest of some strengths, or None if there are none."""
    return max(strengths, key=_RANK.__getitem__, default=None)


@dataclass(frozen=True, slots=True)
class KeyClass:
    """One class of match key: its name (in key material and on candidates, at most 24
    characters), its strength, its label (the short words a hub worker reads: "NHS number and
    date of birth") and its meaning (a sentence on what the key holds)."""

    name: str
    strength: Strength
    label: str
    meaning: str


C, S, P = Strength.CERTAIN, Strength.STRONG, Strength.PROBABLE

# The classes of key set 3, in the order a record's keys are derived: a record keeps its first
# MAX_KEYS (node.matching.keys), so the order says what a record with very many gives up first,
# except that the corrections of a mistyped NHS number come after every other key.
# Strengths are measured by bench.matching_quality (three seeds, the default and messy faults,
# NHS numbers on every record and as agencies hold them; bench/RESULTS.md), which prints each
# class's measured strength beside this one: CERTAIN only for a class that showed no false pair
# anywhere and by its fields cannot join twins (the forename or NHS number differs) or a son
# named after his father (the date of birth differs); STRONG for a class with at most one false
# pair in 10,000 of its pairs in every preset and scenario (seeds pooled); PROBABLE otherwise.
# Only CERTAIN links records as they arrive; the others raise candidates for a professional.
#
# Why each class exists: the fault it survives, every other field intact. Names are read either
# way round (the pair is sorted, the surname read through the forename table too), so each class
# holding both names survives the two written in each other's field as well.
#   nhs_dob            exact and local to one person: the number with the date it belongs to.
#   name_dob_postcode  the full identity agencies write down: exact, and local.
#   nhs                a wrong or missing date of birth. Derived for every record with a valid
#                      number, not only those without a date of birth: a key meets only its
#                      equal, so the record that has a date must carry it too. STRONG, not
#                      CERTAIN, though the bench shows no false pair: the bench never writes
#                      another person's valid number, which real records do (a mother's on her
#                      baby's record).
#   nhs_near_surname   a mistyped NHS number: the number + the Soundex code of the surname (of
#                      each part of a double-barrelled one, and of each alias's surname). A number
#                      failing its check digit was mistyped, and one slip (a digit changed, two
#                      adjacent swapped) is what the check digit catches, so such a record gives
#                      a key for each valid number one slip away (about ten: the swaps first, each
#                      with every sound and the forename's too in case the names were swapped;
#                      then the changed digits), after all its other keys. A valid number's own
#                      keys come here, early: they are few, and what the corrections look for.
#                      The surname keeps the neighbours' holders out: a maternity unit issues
#                      numbers in sequence, so the number one slip from a child's is often another
#                      local child's. Twins hold consecutive numbers and share the surname.
#   name_dob           a move or a missing postcode, a record under one half of a double-barrelled
#                      surname, and day and month written the other way round (07/03 for 03/07:
#                      the two go into the key in order of size). Not CERTAIN: a child's middle
#                      name can be a twin's forename, and a record with its names swapped then
#                      reads as the twin's; and without the postcode it is not local.
#   prefix3_dob        a typo or a cut after the third letter of either name, with a move: the
#                      first three letters of each name and the date of birth. The beginning of
#                      "Mohammed Imran" is Imran's: twins Mohammed Ali and Mohammed Imran would
#                      share Mohammed's.
#   forename_surname_end_dob  a surname mistyped or changed before its last three letters, with a
#                      move. The whole forename and the date keep it specific: STRONG.
#   forename_end_surname_dob  a forename mistyped in its first letters ("Erily" for Emily), with a
#                      move. Twins whose forenames end alike (Hayden and Jayden) share it.
#   short_name_bday_postcode  a mistyped or changed surname and a wrong year of birth, even
#                      together: forename + the surname's first letter + day and month of birth +
#                      postcode. A son named after his father shares it only when born on his
#                      father's birthday.
#   prefix2_dob_postcode  a name cut to two letters ("Ne" for Ned) or mistyped after them, with
#                      the date and postcode. Twins whose forenames begin alike (Jacob and James)
#                      share it.
#   name_year_postcode a wrong digit in the day or month of birth: names, year and postcode.
# No class leaves out both the forename and the NHS number, nor the whole date of birth unless it
# holds the NHS number: twins share everything else, and a son named after his father all but
# the date. So a record without a surname, a forename or a date of birth gets only the keys of
# its NHS number, if it has one. Measured and left out (bench.matching_quality prints each
# against the key set as a candidate):
#   - forename + surname + postcode, no date of birth: a son named after his father shares it.
#     With the date cut to twelve-year eras (no father shares his son's; a record without a date
#     gives every era) it finds about 4% more pairs where agencies hold few NHS numbers, but a
#     record without a date of birth then meets every same-named person at its postcode: with
#     the messy faults precision falls below 0.999.
#   - surname + date of birth + postcode (no forename), and DESIGN's surname phonetic code +
#     forename initial + date of birth: twins share them. Cutting the forename to a hash bucket
#     (a record without a forename giving every bucket) still joins one twin pair in ten.
#   - the Soundex codes of both names + date of birth (key sets 1 and 2): the beginnings and
#     endings of the names find nearly all its pairs, and it joins twins Alexander and
#     Alexandra.
KEY_CLASSES: tuple[KeyClass, ...] = (
    KeyClass(
        "nhs_dob",
        C,
        "NHS number and date of birth",
        "A valid NHS number and the date of birth it belongs to.",
    ),
    KeyClass(
        "name_dob_postcode",
        C,
        "Name, date of birth and postcode",
        "Forename and surname (either way round), date of birth and postcode, all exact.",
    ),
    KeyClass("nhs", S, "NHS number", "A valid NHS number, whatever else differs."),
    KeyClass(
        "nhs_near_surname",
        P,
        "NHS number (or one a single slip away) and a surname that sounds alike",
        "An NHS number, or a valid one a single slip from a mistyped one, with a surname of the "
        "same Soundex code.",
    ),
    KeyClass(
        "name_dob",
        S,
        "Name and date of birth",
        "Forename and surname (either way round) and date of birth, day and month either way.",
    ),
    KeyClass(
        "prefix3_dob",
        P,
        "Beginnings of both names, and date of birth",
        "The first three letters of the forename and of the surname, and the date of birth.",
    ),
    KeyClass(
        "forename_surname_end_dob",
        S,
        "Forename, end of the surname, and date of birth",
        "The forename, the last three letters of the surname, and the date of birth.",
    ),
    KeyClass(
        "forename_end_surname_dob",
        P,
        "End of the forename, surname, and date of birth",
        "The last three letters of the forename, the surname, and the date of birth.",
    ),
    KeyClass(
        "short_name_bday_postcode",
        P,
        "Forename, surname initial, day and month of birth, and postcode",
        "The forename, the surname's first letter, day and month of birth, and the postcode.",
    ),
    KeyClass(
        "prefix2_dob_postcode",
        P,
        "Beginnings of both names, date of birth and postcode",
        "The first two letters of each name, the date of birth and the postcode.",
    ),
    KeyClass(
        "name_year_postcode",
        S,
        "Name, year of birth and postcode",
        "Forename and surname (either way round), year of birth and postcode.",
    ),
)
CLASSES: dict[str, KeyClass] = {key_class.name: key_class for key_class in KEY_CLASSES}

# Classes of older key sets that this one dropped, and the class a candidate carries when a new
# record matches two subjects certainly: candidates raised before a store was re-keyed still
# name them.
FORMER_CLASSES: dict[str, KeyClass] = {
    former.name: former
    for former in (
        KeyClass(
            "name_dob_swapped",
            P,
            "Name, and date of birth with day and month swapped",
            "Key sets 1 and 2: forename, surname, year, and day and month in either order.",
        ),
        KeyClass(
            "phonetic_dob",
            P,
            "Names that sound alike, and date of birth",
            "Key sets 1 and 2: the Soundex codes of forename and surname, and date of birth.",
        ),
        KeyClass(
            "short_name_dob_postcode",
            P,
            "Forename, surname initial, date of birth and postcode",
            "Key set 1: the forename, the surname's first letter, date of birth and postcode.",
        ),
        KeyClass(
            "name_birthday_postcode",
            P,
            "Name, day and month of birth (not the year) and postcode",
            "Key set 1: forename, surname, day and month of birth, and postcode.",
        ),
        KeyClass(
            "certain-conflict",
            C,
            "A record matches both subjects certainly",
            "A new record shares a certain key with each of two subjects.",
        ),
    )
}


def describe(name: str) -> KeyClass | None:
    """The class of that name, in this key set or an older one; None if no key set had it."""
    return CLASSES.get(name) or FORMER_CLASSES.get(name)


def label(name: str) -> str:
    """The words a hub worker reads for a key class (the name itself if no key set had it)."""
    described = describe(name)
    return described.label if described else name
