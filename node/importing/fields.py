"""The rules every field of an agency extract must meet (length, characters, count, JSON shape),
in one place for the CSV and JSON Lines readers.

Names and ids (and the other short identifying fields) take no control character, line break,
bidirectional control, zero-width or other invisible character: two ids or names that look the
same must be the same. Free text (address, summary, detail, the agency's own columns) may hold
tabs and line breaks, but no other control character and no bidirectional override. Text that
was not UTF-8 is read with each bad byte kept as a lone surrogate (`surrogateescape`), so it is
refused here, at its line and field, like a JSON `"\\ud800"`. Reasons name the code point, never
the text around it.
"""

from __future__ import annotations

import datetime as dt
import math
import re
import unicodedata
from typing import Any

# Longest text a field may hold, in characters.
LIMITS = {
    "record_id": 100,
    "item_ref": 100,
    "forenames": 200,
    "surname": 200,
    "date_of_birth": 40,
    "gender": 40,
    "address": 500,
    "postcode": 20,
    "nhs_number": 20,
    "date": 40,
    "category": 100,
    "summary": 500,
    "detail": 20_000,
    "sensitivity": 40,
}
ALIAS_LIMIT = 200  # characters an alias
MAX_ALIASES = 20  # aliases a record: each is a name row and up to a dozen match keys
FREE_FIELD_LIMIT = 1_000  # characters in one of the agency's own columns
MAX_FREE_FIELDS = 50  # the agency's own columns a row may carry
COLUMN_NAME_LIMIT = 100
MAX_LINE_CHARS = 1_000_000  # a row's line, read in pieces of this beyond it (never whole)
MAX_JSON_DEPTH = 2  # a row is an object; inside it, at most a list of text (aliases)
MAX_NUMBER_CHARS = 30  # a JSON number longer than this is no id, date or count an agency writes
EARLIEST_DATE = dt.date(1900, 1, 1)  # dates of birth and items before it are typing mistakes

# Short identifying fields: the names-and-ids rules apply. Every other field is free text.
IDENTIFYING = frozenset(
    {
        "record_id",
        "item_ref",
        "forenames",
        "surname",
        "aliases",
        "date_of_birth",
        "gender",
        "postcode",
        "nhs_number",
        "date",
        "category",
        "sensitivity",
    }
)
NAME_FIELDS = ("forenames", "surname")  # text only: a number is no name
ID_FIELDS = ("record_id", "item_ref", "nhs_number")  # text or a whole number

# Unicode's format characters (category Cf, Unicode 14: zero-width, bidirectional and other
# invisible controls), line and paragraph separators, surrogates, and C0, DEL and C1 controls.
_INVISIBLE = (
    "\u00ad\u0600-\u0605\u061c\u06dd\u070f\u0890\u0891\u08e2\u180e\u200b-\u200f\u202a-\u202e"
    "\u2060-\u2064\u2066-\u206f\ufeff\ufff9-\ufffb\U000110bd\U000110cd\U00013430-\U00013438"
    "\U0001bca0-\U0001bca3\U0001d173-\U0001d17a\U000e0001\U000e0020-\U000e007f"
)
_BAD_IN_NAMES = re.compile(f"[\x00-\x1f\x7f-\x9f{_INVISIBLE}\u2028\u2029\ud800-\udfff]")
_BAD_IN_TEXT = re.compile(
    "[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069\ud800-\udfff]"
)
_BIDI = frozenset("\u061c\u200e\u200f\u202a\u202b\u202c\u202d\u202e\u2066\u2067\u2068\u2069")
_LINE_BREAKS = frozenset("\n\r\x85\u2028\u2029")
NOT_UTF8 = (
    "is not UTF-8 text (a byte that is not UTF-8, or a lone surrogate such as \\ud800): "
    "save the extract as UTF-8"
)
MIXED_SCRIPTS = (
    "a name mixes the letters of two scripts (e.g. Latin and Cyrillic): kept, but check that it "
    "is not a look-alike of another name"
)
# Scripts written together in one name as a matter of course.
_SAME_SCRIPT = {"HIRAGANA": "CJK", "KATAKANA": "CJK", "HANGUL": "CJK", "KATAKANA-HIRAGANA": "CJK"}


def character_problem(text: str, identifying: bool) -> str | None:
    """Why `text` may not be stored in a field of its kind, or None when it may."""
    found = (_BAD_IN_NAMES if identifying else _BAD_IN_TEXT).search(text)
    if found is None:
        return None
    char = found.group()
    code = ord(char)
    point = f"U+{code:04X}"
    if 0xD800 <= code <= 0xDFFF:
        return NOT_UTF8
    if char in _LINE_BREAKS:
        return f"contains a line break ({point})"
    if unicodedata.category(char) == "Cc":
        return f"contains control characters ({point})"
    if char in _BIDI:
        return (
            f"contains a bidirectional control ({point}), which shows text in another order "
            "than it is stored"
        )
    if char == "\ufeff":
        return f"contains a byte order mark ({point}), as when two files are joined"
    return f"contains an invisible character ({point})"


def any_problem(texts: str, identifying: bool) -> bool:
    """Whether some of `texts` (joined) breaks the rules: one search a row, per field only then."""
    return (_BAD_IN_NAMES if identifying else _BAD_IN_TEXT).search(texts) is not None


def length_problem(name: str, text: str) -> str | None:
    limit = LIMITS.get(name, FREE_FIELD_LIMIT)
    if len(text) > limit:
        return f"longer than {limit} characters"
    return None


def field_text(name: str, value: Any) -> tuple[str, str | None]:
    """A field's value as text, and why it cannot be one (None when it can). CSV gives text;
    JSON may give a number, which is no name, and an id or NHS number only when whole."""
    if value is None:
        return "", None
    if value.__class__ is str:
        return value, None
    if isinstance(value, bool) or not isinstance(value, int | float):
        return "", "must be text"
    if name in NAME_FIELDS:
        return "", "must be text, not a number"
    if name in ID_FIELDS and isinstance(value, float):
        return "", "must be text or a whole number"
    return str(value), None


def column_problem(name: str) -> str | None:
    """Why a column (a CSV header or a JSON key) cannot name a field, or None."""
    if not name:
        return "a column has no name"
    if len(name) > COLUMN_NAME_LIMIT:
        return f"a column name is longer than {COLUMN_NAME_LIMIT} characters"
    problem = character_problem(name, identifying=True)
    return f"a column name {problem}" if problem else None


def shown_column(name: str) -> str:
    """A column's name as an error may show it: itself, or 'column' when it breaks the rules
    (a line break or a control character would break the file:line:field form)."""
    return name if column_problem(name) is None else "column"


def name_scripts(text: str) -> set[str]:
    """The scripts of a name's letters (LATIN, CYRILLIC, GREEK, CJK...)."""
    if text.isascii():
        return {"LATIN"} if any(ch.isalpha() for ch in text) else set()
    scripts = set()
    for char in text:
        # Modifier letters (the apostrophe of "Oʼ", the ʻokina) belong to whatever they modify.
        if char.isalpha() and unicodedata.category(char) != "Lm":
            word = unicodedata.name(char, "UNKNOWN").split(" ", 1)[0]
            scripts.add(_SAME_SCRIPT.get(word, word))
    return scripts


def mixes_scripts(text: str) -> bool:
    """Whether a name holds letters of more than one script ("Аnna" with a Cyrillic A)."""
    return not text.isascii() and len(name_scripts(text)) > 1


def json_number(text: str, whole: bool) -> int | float:
    """A JSON number no longer than MAX_NUMBER_CHARS and finite; ValueError otherwise."""
    if len(text) > MAX_NUMBER_CHARS:
        raise JsonShapeError("row", f"has a number of more than {MAX_NUMBER_CHARS} characters")
    value = int(text) if whole else float(text)
    if not whole and not math.isfinite(value):
        raise JsonShapeError("row", "has a number too large to hold")
    return value


def too_deep(value: Any, limit: int = MAX_JSON_DEPTH) -> bool:
    """Whether a parsed JSON value nests more than `limit` levels (an object of scalars is 1).
    Iterative, and it stops at the first level past the limit: the parser accepts nesting far
    deeper than Python's recursion would."""
    level = [value]
    depth = 0
    while level:
        containers = [item for item in level if isinstance(item, dict | list)]
        if not containers:
            return False
        depth += 1
        if depth > limit:
            return True
        level = []
        for item in containers:
            level.extend(item.values() if isinstance(item, dict) else item)
    return False


class JsonShapeError(ValueError):
    """A JSON line parses, but not into a row: a repeated key, NaN, a number too long, nesting."""

    def __init__(self, field: str, reason: str) -> None:
        super().__init__(reason)
        self.field = field
        self.reason = reason
