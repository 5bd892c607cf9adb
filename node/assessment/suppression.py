"""Small-number suppression of a table with its totals: no count from 1 to 4 is shown, and no
suppressed count can be worked back from a total.

Primary suppression hides every count from 1 to 4 (cells and totals alike). Secondary
suppression then hides, in any row or column (its total included) that has exactly one hidden
count, the smallest other non-zero count, until none has exactly one: a single hidden count
would be its total minus the others. Every total that is shown equals the sum of its cells
whenever they are all shown.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

SMALL = range(1, 5)
MARK = "*"  # how a suppressed count is shown
NOTE = "* a count from 1 to 4, or one that would reveal such a count, is not shown"


@dataclass(frozen=True)
class Grid:
    """A table's counts after suppression: `None` where hidden. The last column of each row is the
    row's total, the last row the column totals (and the grand total in its last cell)."""

    cells: tuple[tuple[int | None, ...], ...]

    def text(self, row: int, column: int) -> str:
        value = self.cells[row][column]
        return MARK if value is None else f"{value:,}"


def suppress(counts: Sequence[Sequence[int]], width: int | None = None) -> Grid:
    """`counts` (rows of `width` cells, without totals) with totals added and small numbers
    hidden."""
    rows = [list(r) for r in counts]
    width = width if width is not None else (len(rows[0]) if rows else 0)
    table = [[*r, sum(r)] for r in rows]
    table.append([sum(r[c] for r in table) for c in range(width + 1)])
    hidden = [[v in SMALL for v in r] for r in table]
    lines = [[(i, j) for j in range(width + 1)] for i in range(len(table))] + [
        [(i, j) for i in range(len(table))] for j in range(width + 1)
    ]
    changed = True
    while changed:
        changed = False
        for line in lines:
            shut = [p for p in line if hidden[p[0]][p[1]]]
            if len(shut) != 1:
                continue
            candidates = [p for p in line if not hidden[p[0]][p[1]] and table[p[0]][p[1]] > 0]
            if not candidates:
                continue  # the rest are zeros: the hidden count is the total, hidden too
            i, j = min(candidates, key=lambda p: table[p[0]][p[1]])
            hidden[i][j] = True
            changed = True
    return Grid(
        tuple(
            tuple(None if hidden[i][j] else v for j, v in enumerate(r)) for i, r in enumerate(table)
        )
    )
