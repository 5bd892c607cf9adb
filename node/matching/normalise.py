"""Pure normalisers for the identity fields agencies spell differently: names, dates, postcodes.

Every function here is deterministic and idempotent, and the hot ones are cached, because an
import calls them for every record and names repeat a great deal.
"""

from __future__ import annotations

import datetime as dt
import re
import unicodedata
from functools import lru_cache

import jellyfish

from node.matching.nicknames import canonical_forms

_CACHE = 1 << 16

# Apostrophes are removed outright so that "O'Brien", "O’Brien" and "OBrien" agree.
_APOSTROPHES = dict.fromkeys(map(ord, "'’‘`´ʼʹʻ′"), None)
# Latin letters that carry no combining mark under NFKD, spelt as an English clerk would type them.
_LETTERS = str.maketrans(
    {"ø": "o", "æ": "ae", "œ": "oe", "đ": "d", "ð": "d", "ł": "l", "þ": "th", "ı": "i", "ħ": "h"}
)
_NOT_WORD = re.compile(r"[\W_]+")
_HYPHENS = dict.fromkeys(map(ord, "-‐‑‒–—"), None)

# Titles dropped when they lead a name and something else follows ("Lord" alone is a surname).
HONORIFICS = frozenset(
    """mr mrs ms miss mx dr doctor prof professor rev revd reverend sir dame master lady lord
    fr father sr sister hon rt capt captain col major cllr""".split()
)
# Generational suffixes dropped when they end a name and something else precedes them.
SUFFIXES = frozenset("jr jnr junior sr snr senior ii iii iv".split())
# Placeholders written where the forename is not known (unborn babies, anonymous callers).
FORENAME_PLACEHOLDERS = frozenset("baby unborn infant unknown unnamed nk fnu".split())
FORENAME_PLACEHOLDER_PHRASES = frozenset({"n a", "na", "n k", "not known", "not stated", "no name"})
# Surname particles that belong to the word after them: "de la Cruz" is one part, not three.
SURNAME_PARTICLES = frozenset(
    "de la le les del della der den van von da das dos di du st ter ten al el bin ben ibn abu"
    " mac mc o".split()
)
# Words joining the parts of a Spanish or Portuguese double surname ("García y López").
SURNAME_CONJUNCTIONS = frozenset({"y", "e", "i"})
# First forenames that are a devotional prefix: the given name proper is the token after them.
FORENAME_PREFIXES = frozenset({"muhammad", "abdul"})


class DateError(ValueError):
    """Raised when text is not a date in one of the accepted forms, or names no real day."""


ACCEPTED_DATE_FORMS = (
    "YYYY-MM-DD, DD/MM/YYYY, DD-MM-YYYY, DD.MM.YYYY (day and month may be one digit), "
    "'3 Mar 2015' or '3 March 2015'"
)


@lru_cache(maxsize=_CACHE)
def normalise_name(text: str) -> str:
    """Return a name in one comparable spelling: lower case, unaccented, punctuation as spaces.

    Apostrophes vanish ("O'Brien" → "obrien"), hyphens and other punctuation become spaces,
    whitespace is collapsed, leading honorifics ("Dr", "Mrs") and trailing generational
    suffixes ("Jnr") are dropped as long as another word remains.
    """
    # NFKD before casefolding (𝕊 → S → s) and after it (İ → i̇ → i + a mark to strip).
    folded = unicodedata.normalize("NFKD", unicodedata.normalize("NFKD", text).casefold())
    bare = "".join(ch for ch in folded if not unicodedata.combining(ch))
    bare = bare.translate(_APOSTROPHES).translate(_LETTERS)
    tokens = _NOT_WORD.sub(" ", bare).split()
    while len(tokens) > 1 and tokens[0] in HONORIFICS:
        del tokens[0]
    while len(tokens) > 1 and tokens[-1] in SUFFIXES:
        del tokens[-1]
    return " ".join(tokens)


def forename_tokens(text: str) -> list[str]:
    """Return the normalised forenames, placeholders such as "Baby" or "Unknown" removed.

    A hyphenated forename is one name, written joined ("Jean-Paul" → "jeanpaul", "Ji-woo" →
    "jiwoo"): splitting it would make twins Min-jun and Min-seo both "min".
    """
    return list(_forename_tuple(text))


@lru_cache(maxsize=_CACHE)
def _forename_tuple(text: str) -> tuple[str, ...]:
    normalised = normalise_name(text.translate(_HYPHENS))
    if normalised in FORENAME_PLACEHOLDER_PHRASES:
        return ()
    return tuple(t for t in normalised.split() if t not in FORENAME_PLACEHOLDERS)


def first_forename(text: str) -> str:
    """Return the first normalised forename, or "" when none is known."""
    tokens = _forename_tuple(text)
    return tokens[0] if tokens else ""


@lru_cache(maxsize=_CACHE)
def canonical_forename(text: str) -> str:
    """Return the first forename with nicknames and spelling variants mapped to one given name.

    "Bob" → "robert", "Mohamed" → "muhammad". A nickname shared by two given names ("Sam")
    maps to the first listed in the nickname table; see canonical_forenames for all of them.
    """
    first = first_forename(text)
    return canonical_forms(first)[0] if first else ""


@lru_cache(maxsize=_CACHE)
def canonical_forenames(text: str) -> tuple[str, ...]:
    """Return every canonical form the forenames may stand for, as used in match keys.

    Usually one. A nickname of two given names gives both ("sam" → samuel, samantha), so that
    "Sam" meets "Samuel" and "Samantha" while those two never meet each other. When the first
    forename is a devotional prefix (Muhammad, Abdul) and another forename follows, the prefix
    and the next name form one key ("Mohammed Imran" → "muhammadimran"), and the next name alone
    is a second form ("imran"): brothers "Mohammed Ali" and "Mohammed Imran" must not collide.
    """
    tokens = _forename_tuple(text)
    if not tokens:
        return ()
    first = canonical_forms(tokens[0])
    if len(tokens) > 1 and first[0] in FORENAME_PREFIXES:
        given = canonical_forms(tokens[1])
        joined = tuple(first[0] + name for name in given)
        return _unique(joined + given)
    return first


@lru_cache(maxsize=_CACHE)
def surname_key(text: str) -> str:
    """Return the surname as one word: "Smith-Jones", "Smith Jones" and "SMITHJONES" agree."""
    return normalise_name(text).replace(" ", "")


@lru_cache(maxsize=_CACHE)
def surname_parts(text: str) -> tuple[str, ...]:
    """Return the surname's parts when it has several ("Smith-Jones" → smith, jones), else ().

    Particles stay with the word they precede, so "de la Cruz" and "Al-Hassan" are one part;
    a joining "y" or "e" is not a part ("García y López" → garcia, lopez).
    """
    parts: list[str] = []
    pending = ""
    for token in normalise_name(text).split():
        if token in SURNAME_CONJUNCTIONS:
            continue
        if token in SURNAME_PARTICLES:
            pending += token
            continue
        parts.append(pending + token)
        pending = ""
    if pending:
        parts.append(pending)
    return tuple(parts) if len(parts) > 1 else ()


@lru_cache(maxsize=_CACHE)
def phonetic(token: str) -> str:
    """Return the Soundex code of a name (spaces ignored), or the name itself outside Latin script.

    When key sets 1 and 2 had a phonetic + date-of-birth key, bench.matching_quality compared
    Soundex, Metaphone, NYSIIS and the match-rating codex as its code: Soundex found the most true
    pairs that no other key finds (half as many again as Metaphone) with no more false pairs. It
    is the code of nhs_near_surname and of name search. Names in scripts it cannot
    read (Arabic, Cyrillic) are kept whole: Soundex would reduce them to their first letter.
    """
    word = normalise_name(token).replace(" ", "")
    if not (word.isascii() and word.isalpha()):
        return word
    return jellyfish.soundex(word)


_MONTHS = {
    name: number
    for number, names in enumerate(
        (
            ("jan", "january"),
            ("feb", "february"),
            ("mar", "march"),
            ("apr", "april"),
            ("may",),
            ("jun", "june"),
            ("jul", "july"),
            ("aug", "august"),
            ("sep", "sept", "september"),
            ("oct", "october"),
            ("nov", "november"),
            ("dec", "december"),
        ),
        start=1,
    )
    for name in names
}
_ISO = re.compile(r"([0-9]{4})-([0-9]{2})-([0-9]{2})")
_DAY_FIRST = re.compile(r"([0-9]{1,2})([/.-])([0-9]{1,2})\2([0-9]+)")
_WORDY = re.compile(r"([0-9]{1,2}) ([a-z]+) ([0-9]+)")


@lru_cache(maxsize=_CACHE)
def parse_date(text: str) -> dt.date | None:
    """Return the date written in text, None when text is blank; raise DateError otherwise.

    Slashed, dashed and dotted dates are read day first, as UK agencies write them. Two-digit
    years are refused (1915 or 2015?), as are days that do not exist (31/02/2015).
    """
    cleaned = " ".join(text.split()).lower()
    if not cleaned:
        return None
    if match := _ISO.fullmatch(cleaned):
        year, month, day = match.group(1, 2, 3)
    elif match := _DAY_FIRST.fullmatch(cleaned):
        day, month, year = match.group(1, 3, 4)
    elif (match := _WORDY.fullmatch(cleaned)) and match.group(2) in _MONTHS:
        day, month, year = match.group(1), str(_MONTHS[match.group(2)]), match.group(3)
    else:
        raise DateError(f"not a date in an accepted form; use {ACCEPTED_DATE_FORMS}")
    if len(year) != 4:
        raise DateError(f"the year must have four digits; use {ACCEPTED_DATE_FORMS}")
    try:
        return dt.date(int(year), int(month), int(day))
    except ValueError:
        raise DateError("no such day: the day, month or year is out of range") from None


_POSTCODE = re.compile(r"(?:[A-Z][0-9]{1,2}|[A-Z]{2}[0-9]{1,2}|[A-Z][0-9][A-Z]|[A-Z]{2}[0-9][A-Z])")
_INWARD = re.compile(r"[0-9][A-Z]{2}")


@lru_cache(maxsize=_CACHE)
def normalise_postcode(text: str) -> str | None:
    """Return a UK postcode as "E8 1AB", or None when blank or not shaped like a UK postcode.

    Case and spacing are ignored ("e81ab", " e8  1ab "). Only the shape is checked (A9 9AA,
    A99 9AA, AA9 9AA, AA99 9AA, A9A 9AA, AA9A 9AA, and GIR 0AA), not that the postcode exists.
    """
    compact = "".join(text.split())
    if not compact.isascii():
        return None
    compact = compact.upper()
    outward, inward = compact[:-3], compact[-3:]
    if compact == "GIR0AA" or (_POSTCODE.fullmatch(outward) and _INWARD.fullmatch(inward)):
        return f"{outward} {inward}"
    return None


def _unique(items: tuple[str, ...]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))
