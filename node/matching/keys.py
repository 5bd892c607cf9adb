"""The versioned match-key set: which field combinations identify a person, and how strongly.

DESIGN section 5. Every node of the federation derives the same keys from the same identity, so
the key classes, their strengths and the canonical material are part of the protocol: changing
any of them means a new KEY_SET_VERSION.

Key material is the UTF-8 string "v2|<class>|<field>|<field>…"; its value is BLAKE2b-128 keyed
by nothing and personalised with b"mash-mk-v2". Material is what a later OPRF takes as input,
so it never appears in a repr. Name pairs are written in sorted order, so a record with forename
and surname swapped gives the same keys.
"""

from __future__ import annotations

import datetime as dt
import hashlib
from collections.abc import Iterable
from dataclasses import dataclass, field
from enum import StrEnum
from functools import lru_cache

from node.matching.nhs import (
    NhsNumberError,
    mistyped_nhs_number,
    nhs_corrections,
    normalise_nhs_number,
)
from node.matching.normalise import (
    canonical_forename,
    canonical_forenames,
    first_forename,
    normalise_postcode,
    parse_date,
    phonetic,
    surname_key,
    surname_parts,
)

KEY_SET_VERSION = 2
_PREFIX = f"v{KEY_SET_VERSION}|"
_PERSON = f"mash-mk-v{KEY_SET_VERSION}".encode()
_HASH = hashlib.blake2b(digest_size=16, person=_PERSON)  # copied per key: cheaper than a new one
_CACHE = 1 << 16
# Whole names (forename with surname) repeat far less than either part; at a million records a
# full-size cache of them held ~40 MB in each importing process for a hit rate under 40%.
_PAIR_CACHE = 1 << 13


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


# The key classes of version 2. Why each exists:
#   nhs_dob            an NHS number with a valid check digit and the date of birth it belongs to.
#                      (A placeholder such as 0000000000 passes the check but is no number: nhs.py.)
#   name_dob_postcode  the full identity agencies write down: survives nothing but is exact.
#   nhs                the NHS number alone: survives a wrong or missing date of birth.
#   name_dob           forename + surname + DOB: survives a move, a missing postcode, and (with one
#                      key per surname part) a record under one half of a double-barrelled name.
#   name_dob_swapped   as name_dob with the unordered day and month: survives 07/03 written 03/07.
#   phonetic_dob       Soundex codes of both names + DOB: survives most spelling slips.
#   short_name_bday_postcode  forename + the surname's first letter + day and month of birth +
#                      postcode: survives most mistyped or changed surnames and a wrong year of
#                      birth, even together. Without the letter, twins whose records both have
#                      forename and surname swapped would share it; a son named after his father
#                      shares it only when born on his father's birthday.
#   nhs_near_surname   an NHS number + the Soundex code of the surname (of each part of a
#                      double-barrelled one too, and of each alias's surname). A number that
#                      fails its check digit was mistyped, and one slip (one digit changed, two
#                      adjacent swapped) is what the check digit catches, so such a record gives
#                      a key for each valid number one slip away (about nine), and offers its
#                      forename's code as well, in case its names were swapped. It survives a
#                      mistyped NHS number with any other fault but a changed surname sound. The
#                      surname keeps the neighbours' holders out: a maternity unit issues numbers
#                      in sequence, so the number one slip from a child's is often another local
#                      child's (bench.matching_quality measures the corrections alone, and with
#                      the date of birth instead of the surname: both join different children).
#                      Twins hold consecutive numbers and share the surname, so a mistyped
#                      twin's record can meet the other twin's: PROBABLE.
# Version 1 had short_name_dob_postcode (the full DOB) and name_birthday_postcode (forename +
# surname + day and month + postcode); short_name_bday_postcode replaced both, one key a record
# instead of two. bench.matching_quality still measures the two as candidates: they find almost
# no pair that version 2 misses.
# No class leaves out both the forename and the NHS number: twins share everything else. No name
# class leaves out the whole date of birth either: forename + surname + postcode was measured and
# dropped, because a son named after his father shares it (see bench.matching_quality). DESIGN's
# example "surname phonetic code + forename initial + DOB" was dropped too: twins Jack and James
# share it. Twins still meet where their names do: a PROBABLE phonetic_dob for names with one
# Soundex code (Alexander and Alexandra), any key when a record has an ambiguous short form
# ("Sam" for Samuel or Samantha).
KEY_CLASSES: dict[str, Strength] = {
    "nhs_dob": Strength.CERTAIN,
    "name_dob_postcode": Strength.CERTAIN,
    "nhs": Strength.STRONG,
    "name_dob": Strength.STRONG,
    "name_dob_swapped": Strength.PROBABLE,
    "phonetic_dob": Strength.PROBABLE,
    "short_name_bday_postcode": Strength.PROBABLE,
    "nhs_near_surname": Strength.PROBABLE,
}


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
    """Return the match keys of an identity, one per distinct value.

    A key whose fields are missing is simply not produced.
    """
    return _keys(_materials(identity))


def derive_packed_keys(identity: Identity) -> tuple[bytes, str]:
    """Return the keys of derive_keys packed as an import stages them: their values end to end,
    and one class letter each. No MatchKey is built: a million records have seven million keys."""
    values = []
    letters = []
    start = _HASH.copy
    for material, key_class in _materials(identity).items():
        digest = start()
        digest.update((_PREFIX + material).encode())
        values.append(digest.digest())
        letters.append(CLASS_LETTERS[key_class])
    return b"".join(values), "".join(letters)


def _materials(identity: Identity) -> dict[str, str]:
    """Return each key's material (class name first, no version) and its class."""
    materials: dict[str, str] = {}
    nhs, dob, postcode = identity.nhs_number, identity.date_of_birth, identity.postcode
    dob_text = dob.isoformat() if dob else ""
    if nhs:
        if dob:
            materials[f"nhs_dob|{nhs}|{dob_text}"] = "nhs_dob"
        materials[f"nhs|{nhs}"] = "nhs"
    _near_materials(identity, materials)
    if dob:
        swapped = _swapped_text(dob)
        postcode = postcode or ""
        _name_materials(
            _prepare(identity.forenames, identity.surname), dob_text, swapped, postcode, materials
        )
        for alias in identity.aliases:
            names = _prepare(*split_alias(alias, identity.surname))
            _name_materials(names, dob_text, swapped, postcode, materials)
    return materials


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
    """The name fields of one name (own or alias), prepared once and cached."""

    pairs: tuple[str, ...]  # sorted "a|b" of each forename reading and the full surname
    part_pairs: tuple[str, ...]  # the same for each part of a multi-part surname
    phonetic_pairs: tuple[str, ...]
    short_names: tuple[str, ...]  # "forename|initial of the surname"


def _prepare(forenames: str, surname: str) -> _Names:
    """Return the prepared name; cached on the normalised fields, which repeat far more."""
    return _prepare_normalised(
        canonical_forenames(forenames), surname_key(surname), surname_parts(surname)
    )


@lru_cache(maxsize=_PAIR_CACHE)
def _prepare_normalised(readings: tuple[str, ...], family: str, parts: tuple[str, ...]) -> _Names:
    if not family or not readings:
        return _NO_NAMES
    if len(readings) == 1 and not parts:  # most names: what _prepare_general gives, sooner
        (forename,) = readings
        return _Names(
            pairs=(_pair(forename, family),),
            part_pairs=(),
            phonetic_pairs=(_pair(phonetic(forename), phonetic(family)),),
            short_names=(f"{forename}|{family[0]}",),
        )
    return _prepare_general(readings, family, parts)


def _prepare_general(readings: tuple[str, ...], family: str, parts: tuple[str, ...]) -> _Names:
    """The prepared name of any readings of the forename and parts of the surname."""
    family_code = phonetic(family)
    return _Names(
        pairs=_unique(_pair(f, family) for f in readings),
        part_pairs=_unique(_pair(f, p) for f in readings for p in parts if p != family),
        phonetic_pairs=_unique(_pair(phonetic(f), family_code) for f in readings),
        short_names=tuple(f"{f}|{family[0]}" for f in readings),
    )


_NO_NAMES = _Names((), (), (), ())


def _name_materials(
    names: _Names, dob: str, swapped: str, postcode: str, out: dict[str, str]
) -> None:
    """Add the name-based key materials of one name to out (every one needs a date of birth)."""
    for pair in names.pairs:
        out[f"name_dob|{pair}|{dob}"] = "name_dob"
        if swapped:
            out[f"name_dob_swapped|{pair}|{swapped}"] = "name_dob_swapped"
        if postcode:
            out[f"name_dob_postcode|{pair}|{dob}|{postcode}"] = "name_dob_postcode"
    for pair in names.part_pairs:
        out[f"name_dob|{pair}|{dob}"] = "name_dob"
    for pair in names.phonetic_pairs:
        out[f"phonetic_dob|{pair}|{dob}"] = "phonetic_dob"
    if postcode:
        for short in names.short_names:
            out[f"short_name_bday_postcode|{short}|{dob[5:]}|{postcode}"] = (
                "short_name_bday_postcode"
            )


# MatchKey's frozen __init__ sets each field through object.__setattr__; setting the slots
# directly builds the same object in 60% of the time, which counts at a million records.
_set_class = MatchKey.key_class.__set__  # type: ignore[attr-defined]
_set_strength = MatchKey.strength.__set__  # type: ignore[attr-defined]
_set_value = MatchKey.value.__set__  # type: ignore[attr-defined]
_set_material = MatchKey.material.__set__  # type: ignore[attr-defined]


def _keys(materials: dict[str, str]) -> list[MatchKey]:
    """Return the MatchKey of each material (class name first, no version) and its class."""
    keys = []
    start, new = _HASH.copy, object.__new__
    for material, key_class in materials.items():
        raw = (_PREFIX + material).encode()
        digest = start()
        digest.update(raw)
        key = new(MatchKey)
        _set_class(key, key_class)
        _set_strength(key, KEY_CLASSES[key_class])
        _set_value(key, digest.digest())
        _set_material(key, raw)
        keys.append(key)
    return keys


def _near_materials(identity: Identity, out: dict[str, str]) -> None:
    """Add the nhs_near_surname materials: the valid number, or each correction of a mistyped one,
    with the sound of each surname and surname part (and of the forename, when mistyped)."""
    numbers = near_numbers(identity)
    if not numbers:
        return
    codes = [_sound(identity.surname), *map(_sound, surname_parts(identity.surname))]
    for alias in identity.aliases:
        codes.append(_sound(split_alias(alias, identity.surname)[1]))
    if not identity.nhs_number:
        codes.append(_sound(first_forename(identity.forenames)))
    for code in _unique(code for code in codes if code):
        for number in numbers:
            out[f"nhs_near_surname|{number}|{code}"] = "nhs_near_surname"


def near_numbers(identity: Identity) -> tuple[str, ...]:
    """The NHS numbers nhs_near_surname takes: the valid number, or each correction of a
    mistyped one (none without either)."""
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
CLASS_LETTERS = {name: chr(ord("A") + i) for i, name in enumerate(sorted(KEY_CLASSES))}
CLASS_NAMES = {letter: name for name, letter in CLASS_LETTERS.items()}


def key_values(packed: bytes | None) -> list[bytes]:
    """The key values packed end to end by derive_packed_keys (as a record keeps them)."""
    packed = bytes(packed or b"")
    return [packed[at : at + KEY_WIDTH] for at in range(0, len(packed), KEY_WIDTH)]


def _swapped_text(dob: dt.date) -> str:
    """Return year and the unordered day-month pair, when day and month could be transposed."""
    day, month = dob.day, dob.month
    if day > 12 or day == month:
        return ""
    low, high = sorted((day, month))
    return f"{dob.year:04d}|{low:02d}|{high:02d}"


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
