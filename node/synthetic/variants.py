"""The faults real agency data has, as pure functions that take their randomness from the caller.

Each function takes a value as a clean record holds it and returns it as a careless or differently
configured system might: a typo, a truncated name, a nickname, fields swapped, day and month
transposed, a wrong digit in a date, a mistyped NHS number, two characters of a postcode swapped,
other capitalisation or spacing, another date format. None of them mutates anything or
touches global randomness, so a caller passing `random.Random(seed)` gets the same fault every time.
Used by the synthetic extracts and by the matching-quality benchmark.
"""

from __future__ import annotations

import datetime as dt
import itertools
import random
import string
import unicodedata
from functools import lru_cache

from node.matching.nhs import nhs_check_digit
from node.matching.nicknames import table as forename_table

_LOWER = string.ascii_lowercase


class DateNotTransposableError(ValueError):
    """Raised when a date's day cannot be read as a month (the day is after the 12th)."""


class NhsFormatError(ValueError):
    """Raised when text given as an NHS number is not ten digits (spaces and hyphens allowed)."""


# --- names ---------------------------------------------------------------------------------------


def _letter_for(name: str, rng: random.Random) -> str:
    letter = rng.choice(_LOWER)
    return letter.upper() if name.isupper() else letter


def _typo_edits(name: str) -> list[str]:
    """The kinds of one-letter edit that can change this name."""
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    edits = ["insert", "substitute"] if letters else ["insert"]
    if len(letters) > 2:
        edits.append("delete")
    if _transposable(name):
        edits.append("transpose")
    return edits


def _transposable(name: str) -> list[int]:
    return [
        i
        for i in range(len(name) - 1)
        if name[i].isalpha() and name[i + 1].isalpha() and name[i].lower() != name[i + 1].lower()
    ]


def typo(name: str, rng: random.Random) -> str:
    """Return the name with one letter inserted, deleted, substituted, or two letters transposed.

    The result always differs from the name and is one edit away from it (Damerau–Levenshtein
    distance 1, ignoring case). A new letter is lower case unless the whole name is upper case,
    a substituted one keeps the case of the letter it replaces, and only letters are deleted,
    substituted or transposed, so "O'Brien" never loses its apostrophe.
    """
    edit = rng.choice(_typo_edits(name))
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if edit == "insert":
        at = rng.randrange(1, len(name) + 1) if name else 0
        return name[:at] + _letter_for(name, rng) + name[at:]
    if edit == "delete":
        at = rng.choice(letters)
        return name[:at] + name[at + 1 :]
    if edit == "transpose":
        at = rng.choice(_transposable(name))
        first, second = name[at], name[at + 1]
        swapped = (second.upper() if first.isupper() else second.lower()) + (
            first.upper() if second.isupper() else first.lower()
        )
        return name[:at] + swapped + name[at + 2 :]
    at = rng.choice(letters)
    current = name[at].lower()
    replacement = rng.choice([ch for ch in _LOWER if ch != current])
    if name[at].isupper():
        replacement = replacement.upper()
    return name[:at] + replacement + name[at + 1 :]


def truncate(name: str, rng: random.Random) -> str:
    """Return the name cut short after its second letter or later, as a field too short for it
    or a clerk in a hurry leaves it: "Ned" → "Ne", "Katarzyna" → "Kat".

    At least two letters stay and at least one goes, so a name of two letters or fewer is
    returned unchanged. Trailing spaces and punctuation left at the cut are dropped.
    """
    letters = [i for i, ch in enumerate(name) if ch.isalpha()]
    if len(letters) <= 2:
        return name
    keep = rng.randrange(2, len(letters))  # letters kept: 2 … all but one
    return name[: letters[keep - 1] + 1]


def _fold(name: str) -> str:
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(ch for ch in decomposed if not unicodedata.combining(ch))


@lru_cache(maxsize=1)
def _equivalents() -> dict[str, tuple[str, ...]]:
    """Normalised forename → the other forms written for the same given name (both directions)."""
    variants_of: dict[str, set[str]] = {}
    for variant, canonicals in forename_table().items():
        for canonical in canonicals:
            variants_of.setdefault(canonical, {canonical}).add(variant)
    equivalents: dict[str, tuple[str, ...]] = {}
    for variant, canonicals in forename_table().items():
        forms = set().union(*(variants_of[canonical] for canonical in canonicals))
        forms.discard(variant)
        if forms:
            equivalents[variant] = tuple(sorted(forms))
    return equivalents


def nicknames_of(forename: str) -> tuple[str, ...]:
    """Return the other forms of a single forename known to the nickname table, lower case.

    "William" → ("bill", "billy", "will", ...); "Bill" → ("billy", "william", ...). Empty when
    the table knows no other form. The table is node.matching's, so a matcher using that table
    will always recognise these: a benchmark should count them as the easy nickname cases.
    """
    return _equivalents().get(_fold(forename), ())


def _same_case(word: str, like: str) -> str:
    if like.isupper() and len(like) > 1:
        return word.upper()
    if like.islower():
        return word.lower()
    return word.capitalize()


def nickname(forename: str, rng: random.Random) -> str:
    """Return the forenames with the first replaced by a nickname or other form of the same name.

    "William James" → "Bill James" (or "Will James", "Billy James"...), keeping the case style
    of the original ("WILLIAM" → "BILL"). A forename with no known other form is returned
    unchanged; check nicknames_of() first when the caller needs a change.
    """
    first, space, rest = forename.strip().partition(" ")
    choices = nicknames_of(first)
    if not choices:
        return forename
    return _same_case(rng.choice(choices), first) + space + rest


def swap_names(forenames: str, surname: str) -> tuple[str, str]:
    """Return (forenames, surname) as entered with the two fields the wrong way round.

    The result is (surname, forenames): the clerk typed the surname in the forename box.
    """
    return surname, forenames


# --- dates ---------------------------------------------------------------------------------------


def can_transpose_day_month(date: dt.date) -> bool:
    """Return whether transposing the date's day and month gives a different real date."""
    return date.day <= 12 and date.day != date.month


def transpose_day_month(date: dt.date) -> dt.date:
    """Return the date with day and month swapped, as an American-style entry would give it.

    3 April 2015 → 4 March 2015. When day and month are equal the date is returned unchanged.
    Raises DateNotTransposableError when the day is after the 12th (there is no such month).
    """
    if date.day > 12:
        raise DateNotTransposableError(
            f"day {date.day} cannot be a month, so day and month cannot be transposed"
        )
    return dt.date(date.year, date.day, date.month)


def wrong_date_digit(
    date: dt.date, rng: random.Random, earliest: dt.date, latest: dt.date
) -> dt.date:
    """Return the date with one digit of its DDMMYYYY form keyed wrong, still a real date between
    earliest and latest (a wrong digit that names no day, such as a month of 25, is refused on
    import, so it is not what a stored record holds). 7 March 2012 → 7 March 2013, 17 March 2012,
    7 August 2012… Raises ValueError if no such date exists (never for a real date of birth)."""
    digits = f"{date.day:02d}{date.month:02d}{date.year:04d}"
    options = []
    for at in range(8):
        for digit in "0123456789":
            if digit == digits[at]:
                continue
            wrong = digits[:at] + digit + digits[at + 1 :]
            try:
                candidate = dt.date(int(wrong[4:]), int(wrong[2:4]), int(wrong[:2]))
            except ValueError:
                continue
            if earliest <= candidate <= latest:
                options.append(candidate)
    if not options:
        raise ValueError("no date one digit away is a real date in range")
    return rng.choice(options)


def format_date(date: dt.date, style: str) -> str:
    """Return the date as "iso" (2015-04-03) or "uk" (03/04/2015) text."""
    if style == "iso":
        return date.isoformat()
    if style == "uk":
        return f"{date.day:02d}/{date.month:02d}/{date.year:04d}"
    raise ValueError(f"unknown date style {style!r}: expected 'iso' or 'uk'")


def date_format(date: dt.date, rng: random.Random, uk_share: float = 0.5) -> str:
    """Return the date as ISO text (2015-04-03) or, with probability uk_share, as DD/MM/YYYY."""
    return format_date(date, "uk" if rng.random() < uk_share else "iso")


# --- NHS numbers ---------------------------------------------------------------------------------


def _nhs_digits(nhs: str) -> str:
    digits = nhs.replace(" ", "").replace("-", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise NhsFormatError(f"an NHS number is ten digits, got {len(digits)} characters")
    return digits


def is_valid_nhs(nhs: str) -> bool:
    """Return whether ten digits pass the NHS modulus 11 check (raises NhsFormatError otherwise)."""
    digits = _nhs_digits(nhs)
    return nhs_check_digit(digits[:9]) == int(digits[9])


def _mistype_once(digits: str, rng: random.Random) -> str:
    pairs = [i for i in range(9) if digits[i] != digits[i + 1]]
    if pairs and rng.random() < 0.3:
        at = rng.choice(pairs)
        return digits[:at] + digits[at + 1] + digits[at] + digits[at + 2 :]
    at = rng.randrange(10)
    replacement = rng.choice([d for d in string.digits if d != digits[at]])
    return digits[:at] + replacement + digits[at + 1 :]


def mistype_nhs(nhs: str, rng: random.Random) -> str:
    """Return a ten-digit number one slip away from the NHS number that fails the modulus 11 check.

    The slip is a wrong digit or two adjacent digits swapped, as a person keying it makes; both
    are always caught by the check digit. Spaces and hyphens in the input are ignored; the
    result is ten bare digits. Raises NhsFormatError when the input is not ten digits.
    """
    digits = _nhs_digits(nhs)
    while True:
        candidate = _mistype_once(digits, rng)
        if not is_valid_nhs(candidate):
            return candidate


# --- postcodes ----------------------------------------------------------------------------------


def swap_adjacent_characters(text: str, rng: random.Random) -> str:
    """Return the text with two neighbouring characters (spaces skipped) keyed the other way round:
    "E8 1AB" → "E8 1BA", "8E 1AB", "E81 AB"… Text with no two different neighbours is returned
    unchanged. The result may no longer be shaped like a postcode."""
    at = [i for i, ch in enumerate(text) if not ch.isspace()]
    pairs = [(a, b) for a, b in itertools.pairwise(at) if text[a] != text[b]]
    if not pairs:
        return text
    a, b = rng.choice(pairs)
    chars = list(text)
    chars[a], chars[b] = chars[b], chars[a]
    return "".join(chars)


# --- spelling and layout -------------------------------------------------------------------------


def _strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return unicodedata.normalize(
        "NFC", "".join(c for c in decomposed if not unicodedata.combining(c))
    )


def _extra_spaces(text: str, rng: random.Random) -> str:
    spaces = [i for i, ch in enumerate(text) if ch == " "]
    if spaces and rng.random() < 0.5:
        at = rng.choice(spaces)
        return text[:at] + "  " + text[at + 1 :]
    return text + " " if rng.random() < 0.5 else " " + text


def _hyphen_swap(text: str) -> str:
    if "-" in text:
        return text.replace("-", " ")
    core = text.strip()
    at = text.index(core) if core else 0
    return text[:at] + core.replace(" ", "-") + text[at + len(core) :]


def case_and_format(text: str, rng: random.Random) -> str:
    """Return the text as another system would store it: one change of case, spacing or marks.

    One of: UPPER CASE, lower case, an extra space (doubled, leading or trailing), hyphens and
    spaces exchanged in a double-barrelled name ("Smith-Jones" ↔ "Smith Jones"), or accents
    dropped ("Gonçalves" → "Goncalves"). Only changes that alter this text are chosen, so the
    result always differs; folding case, accents, hyphens and whitespace gives back the original.
    """
    candidates = [text.upper(), text.lower(), _strip_accents(text)]
    if "-" in text or " " in text.strip():
        candidates.append(_hyphen_swap(text))
    options = [candidate for candidate in candidates if candidate != text]
    if options and rng.random() < 0.8:
        return rng.choice(options)
    return _extra_spaces(text, rng)
