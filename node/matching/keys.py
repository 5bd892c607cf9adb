"""The versioned match-key set: which field combinations identify a person, and how strongly.

DESIGN section 5. Every node of the federation derives the same keys from the same identity, so
the key classes (node.matching.key_classes, where each is described and its strength measured),
the order they are derived in, the limit of MAX_KEYS a record and the canonical material are
part of the protocol: changing any of them means a new KEY_SET_VERSION.

Key material is the UTF-8 string "v3|<class>|<field>|<field>…"; its value is BLAKE2b-128 keyed
by nothing and personalised with b"mash-mk-v3". Material is what a later OPRF takes as input,
so it never appears in a repr. Name pairs are written in sorted order, and the surname is read
through the forename table as the forename is ("Mohammed" as a surname is "muhammad"), so a
record with forename and surname swapped gives the same keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from functools import lru_cache

from node.matching.key_classes import CLASSES, Strength
from node.matching.nhs import (
    NhsNumberError,
    mistyped_nhs_number,
    nhs_corrections,
    normalise_nhs_number,
)
from node.matching.nicknames import canonical_forms
from node.matching.normalise import (
    FORENAME_PREFIXES,
    canonical_forename,
    canonical_forenames,
    first_forename,
    normalise_postcode,
    parse_date,
    phonetic,
    surname_key,
    surname_parts,
)

KEY_SET_VERSION = 3
# Each key is one private evaluation in every cross-borough check and one entry in the index
# filter, so a record keeps at most this many: the first in KEY_CLASSES order (a record reaches it
# only with two readings of its forename, aliases, a double-barrelled surname or a mistyped NHS
# number, whose corrections come last).
MAX_KEYS = 12
_PREFIX = f"v{KEY_SET_VERSION}|"
_PERSON = f"mash-mk-v{KEY_SET_VERSION}".encode()
_HASH = hashlib.blake2b(digest_size=16, person=_PERSON)  # copied per key: cheaper than a new one
_CACHE = 1 << 16
# Whole names (forename with surname) repeat far less than either part; at a million records a
# full-size cache of them held ~40 MB in each importing process for a hit rate under 40%.
_PAIR_CACHE = 1 << 13
STRENGTHS: dict[str, Strength] = {name: key_class.strength for name, key_class in CLASSES.items()}


@dataclass(frozen=True, slots=True)
class MatchKey:
    """One match key of a record: its class, strength and 16-byte digest."""

    key_class: str
    strength: Strength
    value: bytes
    material: bytes = field(repr=False)


@dataclass(frozen=True, slots=True)
class NameForm:
    """A name of a record (its own or an alias) as stored for tolerant name search."""

    forename_norm: str
    surname_norm: str
    forename_phonetic: str
    surname_phonetic: str
    is_alias: bool = False


@dataclass(frozen=True, slots=True)
class Identity:
    """The identifying fields of a record, as derive_keys takes them.

    Names are the agency's text (derive_keys normalises them); postcode and NHS number are
    already normalised, and None unless valid (from_fields does this for raw text); an NHS number
    of ten digits failing its check digit is kept apart as mistyped_nhs_number. Each alias
    is a full name, "Forename Surname" or "SURNAME, Forename"; an alias of one word is taken as
    a forename the person is also known by, with the record's surname.
    """

    forenames: str
    surname: str
    date_of_birth: dt.date | None
    postcode: str | None
    nhs_number: str | None
    aliases: tuple[str, ...] = ()
    mistyped_nhs_number: str | None = None

    @classmethod
    def from_fields(
        cls,
        forenames: str,
        surname: str,
        date_of_birth: str | dt.date | None,
        postcode: str | None,
        nhs_number: str | None,
        aliases: Iterable[str] | None = (),
    ) -> Identity:
        """Build an identity from raw agency text.

        A postcode not shaped like a UK postcode and an NHS number that is not ten digits or
        fails its check digit become None (the raw text stays on the record). Ten digits that
        fail the check digit are kept as mistyped_nhs_number, which only nhs_near_surname uses.
        A date of birth given as text is read by parse_date, and raises DateError if it cannot
        be read.
        """
        nhs, mistyped = _nhs_fields(nhs_number) if nhs_number else (None, None)
        if isinstance(date_of_birth, str):
            date_of_birth = parse_date(date_of_birth)
        elif isinstance(date_of_birth, dt.datetime):
            date_of_birth = date_of_birth.date()
        return cls(
            forenames=forenames or "",
            surname=surname or "",
            date_of_birth=date_of_birth,
            postcode=normalise_postcode(postcode) if postcode else None,
            nhs_number=nhs,
            aliases=tuple(a for a in aliases or () if a.strip()),
            mistyped_nhs_number=mistyped,
        )


def derive_keys(identity: Identity) -> list[MatchKey]:
    """Return the match keys of an identity, one per distinct value, at most MAX_KEYS.

    A key whose fields are missing is simply not produced.
    """
    return _keys(_materials(identity))


def derive_packed_keys(identity: Identity) -> tuple[bytes, str]:
    """Return the keys of derive_keys packed as an import stages them: their values end to end,
    and one class letter each. No MatchKey is built: a million records have ten million keys."""
    values = []
    letters = []
    start = _HASH.copy
    for material, key_class in _materials(identity):
        digest = start()
        digest.update((_PREFIX + material).encode())
        values.append(digest.digest())
        letters.append(CLASS_LETTERS[key_class])
    return b"".join(values), "".join(letters)


def _materials(identity: Identity) -> list[tuple[str, str]]:
    """Return each key's material (class name first, no version) and its class, in KEY_CLASSES
    order, at most MAX_KEYS of them."""
    name = _prepare(identity.forenames, identity.surname)
    if name.simple and not identity.aliases and not identity.mistyped_nhs_number:
        return _simple_materials(identity, name)
    return _general_materials(identity, name)


def _general_materials(identity: Identity, name: _Names) -> list[tuple[str, str]]:
    """The materials of any identity, in order, at most MAX_KEYS."""
    out: dict[str, str] = {}
    nhs, dob, postcode = identity.nhs_number, identity.date_of_birth, identity.postcode
    names = [name, *(_prepare(*split_alias(alias, identity.surname)) for alias in identity.aliases)]
    day = dob.isoformat() if dob else ""
    if dob and nhs:
        out[f"nhs_dob|{nhs}|{day}"] = "nhs_dob"
    if dob and postcode:
        for each in names:
            for pair in each.pairs:
                out[f"name_dob_postcode|{pair}|{day}|{postcode}"] = "name_dob_postcode"
    if nhs:
        out[f"nhs|{nhs}"] = "nhs"
        _near_materials(identity, out)  # the number's own: what others' corrections look for
    if dob:
        _name_materials(names, dob, day, postcode, out)
    if identity.mistyped_nhs_number and len(out) < MAX_KEYS:
        _near_materials(identity, out)  # its corrections: many, so last
    return list(out.items())[:MAX_KEYS]


def _simple_materials(identity: Identity, name: _Names) -> list[tuple[str, str]]:
    """What _materials gives, sooner, for most records: one name with one reading of the
    forename and a one-part surname (or no name keys at all), no aliases, no mistyped number."""
    out = []
    nhs, dob, postcode = identity.nhs_number, identity.date_of_birth, identity.postcode
    day = dob.isoformat() if dob else ""
    named = bool(name.pairs)
    if dob and nhs:
        out.append((f"nhs_dob|{nhs}|{day}", "nhs_dob"))
    if dob and postcode and named:
        out.append((f"name_dob_postcode|{name.pairs[0]}|{day}|{postcode}", "name_dob_postcode"))
    if nhs:
        out.append((f"nhs|{nhs}", "nhs"))
        code = _sound(identity.surname)
        if code:
            out.append((f"nhs_near_surname|{nhs}|{code}", "nhs_near_surname"))
    if not (dob and named):
        return out
    low, high = sorted((dob.month, dob.day))
    out.append((f"name_dob|{name.pairs[0]}|{dob.year:04d}|{low:02d}|{high:02d}", "name_dob"))
    out.append((f"prefix3_dob|{name.prefix3[0]}|{day}", "prefix3_dob"))
    out.append(
        (f"forename_surname_end_dob|{name.surname_ends[0]}|{day}", "forename_surname_end_dob")
    )
    out.append(
        (f"forename_end_surname_dob|{name.forename_ends[0]}|{day}", "forename_end_surname_dob")
    )
    if postcode:
        out.append(
            (
                f"short_name_bday_postcode|{name.short_names[0]}|{day[5:]}|{postcode}",
                "short_name_bday_postcode",
            )
        )
        out.append(
            (f"prefix2_dob_postcode|{name.prefix2[0]}|{day}|{postcode}", "prefix2_dob_postcode")
        )
        out.append(
            (f"name_year_postcode|{name.pairs[0]}|{day[:4]}|{postcode}", "name_year_postcode")
        )
    return out


def _name_materials(
    names: list[_Names], dob: dt.date, day: str, postcode: str | None, out: dict[str, str]
) -> None:
    """Add the name keys after the certain and NHS ones, class by class (every one needs a date
    of birth): the record's own name first in each class, then its aliases'."""
    low, high = sorted((dob.month, dob.day))  # either way round when both could be the month
    unordered = f"{dob.year:04d}|{low:02d}|{high:02d}"
    for name in names:
        for pair in name.pairs + name.part_pairs:
            out[f"name_dob|{pair}|{unordered}"] = "name_dob"
    for name in names:
        for prefixes in name.prefix3:
            out[f"prefix3_dob|{prefixes}|{day}"] = "prefix3_dob"
    for name in names:
        for short in name.surname_ends:
            out[f"forename_surname_end_dob|{short}|{day}"] = "forename_surname_end_dob"
    for name in names:
        for short in name.forename_ends:
            out[f"forename_end_surname_dob|{short}|{day}"] = "forename_end_surname_dob"
    if not postcode:
        return
    birthday = day[5:]
    for name in names:
        for short in name.short_names:
            out[f"short_name_bday_postcode|{short}|{birthday}|{postcode}"] = (
                "short_name_bday_postcode"
            )
    for name in names:
        for prefixes in name.prefix2:
            out[f"prefix2_dob_postcode|{prefixes}|{day}|{postcode}"] = "prefix2_dob_postcode"
    year = day[:4]
    for name in names:
        for pair in name.pairs:
            out[f"name_year_postcode|{pair}|{year}|{postcode}"] = "name_year_postcode"


def name_forms(identity: Identity) -> list[NameForm]:
    """Return the record's name and each alias as NameForms, for the person_names table."""
    forms = [query_name_form(identity.forenames, identity.surname)]
    for alias in identity.aliases:
        forenames, surname = split_alias(alias, identity.surname)
        form = query_name_form(forenames, surname)
        forms.append(
            NameForm(
                form.forename_norm,
                form.surname_norm,
                form.forename_phonetic,
                form.surname_phonetic,
                is_alias=True,
            )
        )
    return forms


@lru_cache(maxsize=_PAIR_CACHE)
def query_name_form(forenames: str, surname: str) -> NameForm:
    """Return the NameForm of a name typed into a search, normalised as stored names are."""
    forename = canonical_forename(forenames)
    surname_norm = surname_key(surname)
    return NameForm(
        forename_norm=forename,
        surname_norm=surname_norm,
        forename_phonetic=phonetic(forename) if forename else "",
        surname_phonetic=phonetic(surname_norm) if surname_norm else "",
    )


def split_alias(alias: str, surname: str) -> tuple[str, str]:
    """Return (forenames, surname) of an alias: "SMITH, Jo", "Jo Smith", or "Jo" (own surname)."""
    if "," in alias:
        family, _, given = alias.partition(",")
        return given.strip(), family.strip()
    words = alias.split()
    if len(words) == 1:
        return words[0], surname
    return " ".join(words[:-1]), words[-1]


@dataclass(frozen=True, slots=True)
class _Names:
    """The name fields of one name (own or alias), prepared once and cached. Each tuple holds one
    entry a reading of the forename (usually one)."""

    pairs: tuple[str, ...]  # sorted "a|b" of the forename reading and the surname
    part_pairs: tuple[str, ...]  # the same for each part of a multi-part surname
    prefix3: tuple[str, ...]  # sorted first three letters of each
    prefix2: tuple[str, ...]  # sorted first two letters of each
    surname_ends: tuple[str, ...]  # "forename|last three letters of the surname"
    forename_ends: tuple[str, ...]  # "last three letters of the forename|surname"
    short_names: tuple[str, ...]  # "forename|initial of the surname"
    simple: bool = False  # one reading of the forename, a one-part surname: a key of each class


def _prepare(forenames: str, surname: str) -> _Names:
    """Return the prepared name; cached on the normalised fields, which repeat far more."""
    return _prepare_normalised(
        canonical_forenames(forenames), _family(surname), surname_parts(surname)
    )


@lru_cache(maxsize=_CACHE)
def _family(surname: str) -> str:
    """The surname as one word, read through the forename table as a forename is, so that a
    forename written in the surname field gives the same key as in its own."""
    key = surname_key(surname)
    return canonical_forms(key)[0] if key else ""


@lru_cache(maxsize=_PAIR_CACHE)
def _prepare_normalised(readings: tuple[str, ...], family: str, parts: tuple[str, ...]) -> _Names:
    if not family or not readings:  # no name keys, but a split surname gives more NHS ones
        return _NO_NAMES_OF_PARTS if parts else _NO_NAMES
    if len(readings) == 1 and not parts:  # most names: what _prepare_general gives, sooner
        (forename,) = readings
        return _Names(
            pairs=(_pair(forename, family),),
            part_pairs=(),
            prefix3=(_pair(forename[:3], family[:3]),),
            prefix2=(_pair(forename[:2], family[:2]),),
            surname_ends=(f"{forename}|{family[-3:]}",),
            forename_ends=(f"{forename[-3:]}|{family}",),
            short_names=(f"{forename}|{family[0]}",),
            simple=True,
        )
    return _prepare_general(readings, family, parts)


def _prepare_general(readings: tuple[str, ...], family: str, parts: tuple[str, ...]) -> _Names:
    """The prepared name of any readings of the forename and parts of the surname.

    The beginnings of a name are taken from its given name, not from a devotional prefix joined
    to it ("Mohammed Imran" begins "imr", not "muh"): twins Mohammed Ali and Mohammed Imran
    would share the prefix's.
    """
    given = tuple(f for f in readings if not _joined_to_prefix(f)) or readings
    return _Names(
        pairs=_unique(_pair(f, family) for f in readings),
        part_pairs=_unique(_pair(f, p) for f in readings for p in parts if p != family),
        prefix3=_unique(_pair(f[:3], family[:3]) for f in given),
        prefix2=_unique(_pair(f[:2], family[:2]) for f in given),
        surname_ends=_unique(f"{f}|{family[-3:]}" for f in readings),
        forename_ends=_unique(f"{f[-3:]}|{family}" for f in readings),
        short_names=_unique(f"{f}|{family[0]}" for f in readings),
        simple=len(readings) == 1 and not parts,
    )


_NO_NAMES = _Names((), (), (), (), (), (), (), simple=True)
_NO_NAMES_OF_PARTS = _Names((), (), (), (), (), (), ())


def _joined_to_prefix(reading: str) -> bool:
    """Whether a reading is a devotional prefix joined to the given name after it, as
    canonical_forenames makes for "Mohammed Imran" ("muhammadimran")."""
    return any(reading.startswith(p) and reading != p for p in FORENAME_PREFIXES)


# MatchKey's frozen __init__ sets each field through object.__setattr__; setting the slots
# directly builds the same object in 60% of the time, which counts at a million records.
_set_class = MatchKey.key_class.__set__  # type: ignore[attr-defined]
_set_strength = MatchKey.strength.__set__  # type: ignore[attr-defined]
_set_value = MatchKey.value.__set__  # type: ignore[attr-defined]
_set_material = MatchKey.material.__set__  # type: ignore[attr-defined]


def _keys(materials: list[tuple[str, str]]) -> list[MatchKey]:
    """Return the MatchKey of each material (class name first, no version) and its class."""
    keys = []
    start, new = _HASH.copy, object.__new__
    for material, key_class in materials:
        raw = (_PREFIX + material).encode()
        digest = start()
        digest.update(raw)
        key = new(MatchKey)
        _set_class(key, key_class)
        _set_strength(key, STRENGTHS[key_class])
        _set_value(key, digest.digest())
        _set_material(key, raw)
        keys.append(key)
    return keys


def _near_materials(identity: Identity, out: dict[str, str]) -> None:
    """Add the nhs_near_surname materials until MAX_KEYS: the valid number, or the corrections of
    a mistyped one, each with the sound of the surname, of each surname part and each alias's
    surname, and (a mistyped number's) of the forename, in case its names were swapped. The swaps
    of two digits come first with every sound (they are few and likely); then the changed digits,
    all with the surname's sound before any with another."""
    numbers = near_numbers(identity)
    if not numbers:
        return
    codes = [_sound(identity.surname), *map(_sound, surname_parts(identity.surname))]
    codes += [_sound(split_alias(alias, identity.surname)[1]) for alias in identity.aliases]
    if not identity.nhs_number:
        codes.append(_sound(first_forename(identity.forenames)))
    codes = [code for code in dict.fromkeys(codes) if code]
    swaps = _swaps(identity.mistyped_nhs_number, numbers) if identity.mistyped_nhs_number else 0
    order = [(number, code) for number in numbers[:swaps] for code in codes]
    order += [(number, code) for code in codes for number in numbers[swaps:]]
    for number, code in order:
        out[f"nhs_near_surname|{number}|{code}"] = "nhs_near_surname"
        if len(out) >= MAX_KEYS:
            return


def _swaps(mistyped: str, corrections: tuple[str, ...]) -> int:
    """How many of the corrections (which list the swaps first) swap two digits of the number."""
    return sum(1 for number in corrections if sorted(number) == sorted(mistyped))


def near_numbers(identity: Identity) -> tuple[str, ...]:
    """The NHS numbers nhs_near_surname takes: the valid number, or each correction of a
    mistyped one, swaps of two digits first (none without either)."""
    if identity.nhs_number:
        return (identity.nhs_number,)
    if identity.mistyped_nhs_number:
        return nhs_corrections(identity.mistyped_nhs_number)
    return ()


@lru_cache(maxsize=_CACHE)
def _sound(name: str) -> str:
    """Return the phonetic code of a surname (or of a forename taken as one), "" if blank."""
    key = surname_key(name)
    return phonetic(key) if key else ""


# A record's keys packed for staging (the importer's worker sends them so): their 16-byte values
# end to end, and one letter a key for its class.
KEY_WIDTH = 16
CLASS_LETTERS = {name: chr(ord("A") + i) for i, name in enumerate(sorted(CLASSES))}
CLASS_NAMES = {letter: name for name, letter in CLASS_LETTERS.items()}


def key_values(packed: bytes | None) -> list[bytes]:
    """The key values packed end to end by derive_packed_keys (as a record keeps them)."""
    packed = bytes(packed or b"")
    return [packed[at : at + KEY_WIDTH] for at in range(0, len(packed), KEY_WIDTH)]


def _pair(a: str, b: str) -> str:
    return f"{a}|{b}" if a <= b else f"{b}|{a}"


def _unique(items: Iterable[str]) -> tuple[str, ...]:
    return tuple(dict.fromkeys(items))


def _nhs_fields(text: str) -> tuple[str | None, str | None]:
    """Return (the valid NHS number, None) or (None, the mistyped ten digits) or (None, None)."""
    try:
        valid = normalise_nhs_number(text)
    except NhsNumberError:
        return None, None
    return (valid, None) if valid else (None, mistyped_nhs_number(text))
