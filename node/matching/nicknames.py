"""The forename equivalence table (nicknames and spellings → given names), loaded from data."""

from __future__ import annotations

import re
from functools import lru_cache
from importlib.resources import files

DATA_FILE = "forenames.txt"
MAX_READINGS = 2
_NAME = re.compile(r"[a-z]+")


class NicknameTableError(ValueError):
    """Raised when the forename table is malformed; the message names the line."""


def parse_table(text: str) -> dict[str, tuple[str, ...]]:
    """Return variant → canonical names (primary first) from the text of a forename table.

    Every canonical name maps to itself. Raises NicknameTableError for a malformed line, a name
    that is not written normalised, a variant of more than two groups, or a canonical name that
    is also listed as another group's variant (which would make the mapping depend on order).
    """
    table: dict[str, list[str]] = {}
    canonicals: set[str] = set()
    for number, raw in enumerate(text.splitlines(), start=1):
        line = raw.split("#", 1)[0].strip()
        if not line:
            continue
        canonical, sep, rest = line.partition(":")
        names = [canonical.strip(), *rest.split()]
        if not sep or not rest.split():
            raise NicknameTableError(f"line {number}: expected 'canonical: variant ...'")
        if bad := [name for name in names if not _NAME.fullmatch(name)]:
            raise NicknameTableError(f"line {number}: not a normalised one-word name: {bad[0]}")
        canonicals.add(names[0])
        for name in dict.fromkeys(names):
            readings = table.setdefault(name, [])
            if names[0] not in readings:
                readings.append(names[0])
            if len(readings) > MAX_READINGS:
                raise NicknameTableError(f"line {number}: {name} is listed in three groups")
    for name in canonicals:
        if table[name] != [name]:
            raise NicknameTableError(f"{name} is a canonical name and another group's variant")
    return {name: tuple(readings) for name, readings in table.items()}


@lru_cache(maxsize=1)
def table() -> dict[str, tuple[str, ...]]:
    """Return the packaged forename table, read once."""
    text = files("node.matching").joinpath("data", DATA_FILE).read_text(encoding="utf-8")
    return parse_table(text)


def canonical_forms(forename: str) -> tuple[str, ...]:
    """Return the canonical given names a normalised forename may stand for (itself if none)."""
    return table().get(forename) or (forename,)
