"""Matching quality: recall and precision of the match-key set on a labelled synthetic population.

Run: .venv/bin/python -m bench.matching_quality [--people N] [--seed S] [--fault-scale F]

A population of distinct people (households with partners, children, twins and the odd namesake
son, names from node.synthetic.names, postcodes from node.synthetic.places at a real London
density of about 40 residents a postcode, NHS numbers issued as maternity units issue them) is
written out as 1–4 agency records per person with the faults agency data has, at the rates in
FAULT_RATES (scaled by --fault-scale). Two records are predicted to be one person iff they share
a match key (an inverted index key → records; no all-pairs comparison). Recall and precision are
over pairs of records.

It runs two scenarios on the same people: "brief", where every record carries an NHS number
unless a fault removes it, and "agency", where NHS numbers are as scarce as agencies hold them.
For each it prints the figures per key class, compares phonetic codecs, measures candidate key
classes that were left out, and lists the faults of the pairs missed.
"""

from __future__ import annotations

import argparse
import dataclasses
import datetime as dt
import itertools
import os
import platform
import random
import string
import sys
import time
import unicodedata
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

import jellyfish

from node.matching.keys import KEY_CLASSES, KEY_SET_VERSION, Identity, derive_keys, near_numbers
from node.matching.nhs import nhs_check_digit
from node.matching.normalise import canonical_forenames, surname_key
from node.synthetic.names import NAME_GROUPS, NameGroup
from node.synthetic.places import postcode_in

TODAY = dt.date(2025, 6, 1)  # fixed, so a seed always gives the same population
BOROUGH = "hackney"
RESIDENTS_PER_POSTCODE = 40  # a London postcode unit has roughly 15-20 households

# Share of records showing each fault, among the records where it can occur (a nickname needs a
# name that has one; a day/month swap a day of 12 or less; a mistyped NHS number a record that
# carries one). Faults are drawn independently, so they combine. The first seven are the faults
# of the brief, each at 5-15%; the last three are other faults real agency data has.
FAULT_RATES: dict[str, float] = {
    "name_typo": 0.10,  # one insertion, deletion, substitution or transposition in one name
    "nickname": 0.10,  # "Bob" for Robert, "Kasia" for Katarzyna
    "names_swapped": 0.05,  # forename in the surname field and the reverse
    "field_missing": 0.10,  # one of the fields below left blank
    "dob_day_month_swapped": 0.05,
    "postcode_moved": 0.10,  # the record has the address before (or after) a move
    "nhs_mistyped": 0.05,  # one digit changed or two adjacent digits swapped: fails mod 11
    "transliteration": 0.10,  # another spelling of a name: Mohamed/Muhammad, Chowdhury/Choudhury
    "surname_changed": 0.05,  # an adult woman recorded under her previous surname
    "dob_digit_error": 0.02,  # one digit of the day or of the year wrong
}
# Which field a missing-field fault blanks (a record without an NHS number cannot lose it).
MISSING_FIELD: dict[str, float] = {"dob": 0.35, "postcode": 0.35, "nhs": 0.15, "forename": 0.15}

# Share of each agency's records that carry an NHS number at all, in the two scenarios: "brief"
# (every record has one unless a missing-field fault blanks it) and "agency" (as agencies hold
# them: health nearly always, social care mostly, police, schools and housing seldom).
NHS_CARRIED: dict[str, float] = {
    "police": 0.10,
    "childrens-social-care": 0.70,
    "health": 0.97,
    "education": 0.10,
    "housing": 0.05,
    "adult-social-care": 0.80,
}
SCENARIOS: dict[str, dict[str, float]] = {
    "brief": dict.fromkeys(NHS_CARRIED, 1.0),
    "agency": NHS_CARRIED,
}
CHILD_AGENCIES = {"police": 25, "childrens-social-care": 30, "health": 25, "education": 20}
ADULT_AGENCIES = {
    "police": 35,
    "health": 25,
    "housing": 15,
    "adult-social-care": 10,
    "childrens-social-care": 15,
}
TARGET_RECALL, TARGET_PRECISION = 0.99, 0.999
RECORDS_PER_PERSON = {1: 35, 2: 30, 3: 20, 4: 15}
TWIN_RATE = 0.015  # twin maternities in England and Wales: about 1.5%
NAMESAKE_SON_RATE = 0.01  # a son given his father's forename
MIDDLE_NAME_RATE = 0.35
ALIAS_RATE = 0.3  # a record under a previous surname that notes the current name as an alias

# How NHS numbers are issued. A baby's number comes at birth from a block its maternity unit works
# through in order, so children born at the borough's unit hold numbers close to each other's
# (twins consecutive ones), and a mistyped child's number is often one slip from another child's.
# Everyone else holds a number from a wider range. A 20,000-person borough's unit also delivers
# babies from outside it, and some of its own never reach an agency: half of the unit's numbers
# belong to people in the data.
LOCAL_BIRTH_SHARE = 0.7  # children born at the borough's own maternity unit
UNIT_SHARE_IN_DATA = 0.5  # of the unit's numbers, the share held by people in the data
UNIT_BLOCK_START = 452_000_000  # first nine digits of the unit's first number
OTHER_NUMBERS_START = 600_000_000
OTHER_NUMBERS_DENSITY = 0.01  # share of the wider range's valid numbers held by people in the data

# Everyday short forms, written independently of node/matching/data/forenames.txt so that the
# bench measures the table rather than echoing it. Some (Millie, Izzy, Tilly, Mo) are missing
# from the table on purpose: see its header.
NICKNAMES: dict[str, tuple[str, ...]] = {
    "Oliver": ("Ollie",),
    "Thomas": ("Tom", "Tommy"),
    "William": ("Will", "Bill", "Billy"),
    "James": ("Jim", "Jimmy"),
    "Samuel": ("Sam", "Sammy"),
    "Daniel": ("Dan", "Danny"),
    "Alexander": ("Alex",),
    "Matthew": ("Matt",),
    "Christopher": ("Chris",),
    "Michael": ("Mike", "Mick"),
    "David": ("Dave",),
    "Andrew": ("Andy",),
    "Richard": ("Rich", "Rick"),
    "Robert": ("Rob", "Bob", "Bobby"),
    "John": ("Johnny", "Jack"),
    "Peter": ("Pete",),
    "Anthony": ("Tony",),
    "Kenneth": ("Ken",),
    "Raymond": ("Ray",),
    "Benjamin": ("Ben",),
    "Edward": ("Ed", "Eddie", "Ted"),
    "Nicholas": ("Nick",),
    "Jonathan": ("Jon",),
    "Frederick": ("Fred", "Freddie"),
    "Joshua": ("Josh",),
    "Jacob": ("Jake",),
    "Terence": ("Terry",),
    "Stephen": ("Steve",),
    "Steven": ("Steve",),
    "Elizabeth": ("Liz", "Beth", "Lizzie"),
    "Katherine": ("Kate", "Katie", "Kathy"),
    "Margaret": ("Maggie", "Peggy"),
    "Patricia": ("Pat", "Trish"),
    "Jacqueline": ("Jackie",),
    "Samantha": ("Sam",),
    "Jennifer": ("Jen", "Jenny"),
    "Deborah": ("Debbie",),
    "Kimberley": ("Kim",),
    "Christine": ("Chris",),
    "Rebecca": ("Becky",),
    "Victoria": ("Vicky",),
    "Abigail": ("Abi", "Abby"),
    "Jessica": ("Jess",),
    "Charlotte": ("Lottie",),
    "Isabella": ("Bella", "Izzy"),
    "Amelia": ("Millie",),
    "Matilda": ("Tilly",),
    "Susan": ("Sue",),
    "Mohammed": ("Mo",),
    "Katarzyna": ("Kasia",),
    "Małgorzata": ("Gosia",),
    "Wojciech": ("Wojtek",),
    "Jakub": ("Kuba",),
    "Tomasz": ("Tomek",),
    "Aleksandra": ("Ola",),
    "Oluwaseun": ("Seun",),
    "Babatunde": ("Tunde",),
    "Chukwuemeka": ("Emeka",),
}

# Spellings agencies choose between when writing names from other scripts.
TRANSLITERATIONS: tuple[tuple[str, ...], ...] = (
    ("Mohammed", "Muhammad", "Mohamed", "Mohammad", "Muhammed"),
    ("Mohamed", "Mohamud", "Mohammed"),
    ("Ahmed", "Ahmad"),
    ("Hussain", "Hussein", "Husain", "Hossain"),
    ("Hassan", "Hasan"),
    ("Yusuf", "Yousef", "Yousuf"),
    ("Aisha", "Ayesha", "Aysha"),
    ("Fatima", "Fatema", "Fatimah"),
    ("Mariam", "Maryam"),
    ("Khadija", "Khadijah"),
    ("Omar", "Umar"),
    ("Usman", "Osman"),
    ("Ibrahim", "Ebrahim"),
    ("Choudhury", "Chowdhury", "Chaudhry"),
    ("Hoque", "Haque"),
    ("Miah", "Mia"),
    ("Rahman", "Rehman"),
    ("Islam", "Islaam"),
    ("Uddin", "Udin"),
    ("Begum", "Begam"),
    ("Mahmood", "Mahmud", "Mehmood"),
    ("Qureshi", "Quraishi"),
    ("Nguyen", "Nguyễn"),
    ("Abdullahi", "Abdulahi"),
)
_TRANSLIT = {name: group for group in TRANSLITERATIONS for name in group}

HONORIFICS = {"M": ("Mr",), "F": ("Mrs", "Ms", "Miss")}
DOB_FORMATS: tuple[Callable[[dt.date], str], ...] = (
    lambda d: d.isoformat(),
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    lambda d: f"{d.day} {d:%b} {d.year}",
    lambda d: f"{d.day} {d:%B} {d.year}",
)


@dataclass(frozen=True)
class Person:
    """One real person of the synthetic borough."""

    pid: int
    sex: str
    forenames: tuple[str, ...]
    surname: str
    previous_surname: str | None
    dob: dt.date
    postcode: str
    previous_postcode: str
    nhs: str
    group: str
    household: int


@dataclass(frozen=True)
class Record:
    """One agency's record of a person, as the agency wrote it."""

    rid: int
    pid: int
    agency: str
    forenames: str
    surname: str
    dob: str
    postcode: str
    nhs: str
    aliases: tuple[str, ...]
    faults: frozenset[str]


@dataclass
class Household:
    """A household being generated: shared postcode, heritage and names in use."""

    number: int
    group: NameGroup
    postcode: str
    previous_postcode: str
    used_forenames: set[str] = field(default_factory=set)


class Population:
    """Generates people household by household."""

    def __init__(self, rng: random.Random, size: int) -> None:
        self.rng = rng
        self.size = size
        self.people: list[Person] = []
        self.postcodes = self._postcode_pool(max(20, size // RESIDENTS_PER_POSTCODE))
        self.households = 0

    def _postcode_pool(self, count: int) -> list[str]:
        pool: set[str] = set()
        while len(pool) < count:
            pool.add(postcode_in(BOROUGH, self.rng))
        return sorted(pool)

    def build(self) -> list[Person]:
        while len(self.people) < self.size:
            self._household()
        return self._numbered(self.people[: self.size])

    def _numbered(self, people: list[Person]) -> list[Person]:
        """Return the people with NHS numbers, issued as the comment on LOCAL_BIRTH_SHARE says."""
        rng = self.rng
        numbers: dict[int, str] = {}
        births = sorted({(p.household, p.dob) for p in people if _child(p)})
        local = {birth for birth in births if rng.random() < LOCAL_BIRTH_SHARE}  # twins together
        born_here = sorted(
            (p for p in people if (p.household, p.dob) in local), key=lambda p: (p.dob, p.pid)
        )
        unit = valid_nhs_numbers(UNIT_BLOCK_START)
        previous: Person | None = None
        for person in born_here:
            twin = previous is not None and (previous.dob, previous.household) == (
                person.dob,
                person.household,
            )
            while not twin and rng.random() > UNIT_SHARE_IN_DATA:
                next(unit)  # a baby who is not in the data
            numbers[person.pid] = next(unit)
            previous = person
        span = int(len(people) / OTHER_NUMBERS_DENSITY * 11 / 10)
        used = set(numbers.values())
        sibling: dict[tuple[int, dt.date], str] = {}  # a twin born elsewhere: the next number
        for person in people:
            birth = (person.household, person.dob)
            while person.pid not in numbers:
                if birth in sibling:
                    number = next(valid_nhs_numbers(int(sibling[birth][:9]) + 1))
                else:
                    first = str(OTHER_NUMBERS_START + rng.randrange(span))
                    check = nhs_check_digit(first)
                    number = f"{first}{check}" if check is not None else ""
                if number and number not in used:
                    used.add(number)
                    numbers[person.pid] = sibling[birth] = number
                elif birth in sibling:  # the next number is taken: draw a fresh one
                    del sibling[birth]
        return [dataclasses.replace(p, nhs=numbers[p.pid]) for p in people]

    def _household(self) -> None:
        rng = self.rng
        group = rng.choices(NAME_GROUPS, weights=[g.weight for g in NAME_GROUPS])[0]
        home, before = rng.sample(self.postcodes, 2)
        house = Household(self.households, group, home, before)
        self.households += 1
        kind = rng.random()
        surname = self._surname(group)
        if kind < 0.28:
            self._adult(house, rng.choice("MF"), surname, rng.randint(18, 90))
        elif kind < 0.45:
            age = rng.randint(20, 88)
            self._couple(house, surname, age)
        else:
            parent_age = rng.randint(20, 55)
            father = self._family_parents(house, surname, parent_age, kind < 0.55)
            self._children(house, surname, parent_age, father)

    def _family_parents(
        self, house: Household, surname: str, age: int, with_grandparent: bool
    ) -> Person | None:
        rng = self.rng
        if with_grandparent:
            self._adult(house, rng.choice("MF"), surname, min(95, age + rng.randint(20, 35)))
        if rng.random() < 0.25:  # a lone parent, usually the mother
            sex = "F" if rng.random() < 0.9 else "M"
            parent = self._adult(house, sex, surname, age)
            return parent if sex == "M" else None
        return self._couple(house, surname, age)

    def _couple(self, house: Household, surname: str, age: int) -> Person:
        rng = self.rng
        father = self._adult(house, "M", surname, age)
        took_name = rng.random() < 0.7
        wife_surname = surname if took_name else self._surname(house.group, "F")
        previous = self._surname(house.group, "F") if took_name else None
        self._adult(house, "F", wife_surname, max(18, age + rng.randint(-6, 4)), previous)
        return father

    def _children(
        self, house: Household, surname: str, parent_age: int, father: Person | None
    ) -> None:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4), weights=(35, 35, 20, 10))[0]
        oldest = min(17, parent_age - 16)
        for _ in range(count):
            dob = self._dob(rng.randint(0, max(0, oldest)))
            births = 2 if rng.random() < TWIN_RATE else 1
            for _ in range(births):
                sex = rng.choice("MF")
                namesake = father is not None and sex == "M" and rng.random() < NAMESAKE_SON_RATE
                forenames = father.forenames if namesake and father else self._forenames(house, sex)
                self._add(house, sex, forenames, surname, None, dob)

    def _adult(
        self, house: Household, sex: str, surname: str, age: int, previous: str | None = None
    ) -> Person:
        return self._add(house, sex, self._forenames(house, sex), surname, previous, self._dob(age))

    def _add(
        self,
        house: Household,
        sex: str,
        forenames: tuple[str, ...],
        surname: str,
        previous: str | None,
        dob: dt.date,
    ) -> Person:
        person = Person(
            pid=len(self.people),
            sex=sex,
            forenames=forenames,
            surname=surname,
            previous_surname=previous,
            dob=dob,
            postcode=house.postcode,
            previous_postcode=house.previous_postcode,
            nhs="",  # issued once everyone is born: see _numbered
            group=house.group.key,
            household=house.number,
        )
        self.people.append(person)
        return person

    def _forenames(self, house: Household, sex: str) -> tuple[str, ...]:
        names = house.group.female if sex == "F" else house.group.male
        choices = [n for n in names if n not in house.used_forenames] or list(names)
        first = self.rng.choice(choices)
        house.used_forenames.add(first)
        if self.rng.random() < MIDDLE_NAME_RATE:
            return (first, self.rng.choice(names))
        return (first,)

    def _surname(self, group: NameGroup, sex: str = "M") -> str:
        entries = group.surnames
        if sex == "F" and group.female_surnames and self.rng.random() < 0.5:
            entries = group.female_surnames
        names, weights = zip(*entries, strict=True)
        return self.rng.choices(names, weights=weights)[0]

    def _dob(self, age: int) -> dt.date:
        born = TODAY - dt.timedelta(days=age * 365 + self.rng.randint(0, 364))
        return born


class RecordWriter:
    """Writes agency records of people, with formatting noise and faults."""

    def __init__(
        self, rng: random.Random, nhs_carried: dict[str, float], rates: dict[str, float]
    ) -> None:
        self.rng = rng
        self.nhs_carried = nhs_carried
        self.rates = rates
        self.records: list[Record] = []

    def write_all(self, people: Iterable[Person]) -> list[Record]:
        counts, weights = zip(*RECORDS_PER_PERSON.items(), strict=True)
        for person in people:
            for _ in range(self.rng.choices(counts, weights=weights)[0]):
                self.records.append(self._record(person))
        return self.records

    def _record(self, person: Person) -> Record:
        rng, faults = self.rng, set[str]()
        child = _child(person)
        agencies = CHILD_AGENCIES if child else ADULT_AGENCIES
        agency = rng.choices(list(agencies), weights=list(agencies.values()))[0]

        carries_nhs = rng.random() < self.nhs_carried[agency]
        missing = ""
        if self._fault("field_missing", faults):
            fields = [f for f in MISSING_FIELD if f != "nhs" or carries_nhs]
            missing = rng.choices(fields, weights=[MISSING_FIELD[f] for f in fields])[0]
            faults.discard("field_missing")
            faults.add(f"{missing}_missing")
        forenames, surname = self._names(person, child, faults, missing == "forename")
        aliases: tuple[str, ...] = ()
        if "surname_changed" in faults and rng.random() < ALIAS_RATE:
            aliases = (f"{person.forenames[0]} {person.surname}",)  # "also known as" the other
        return Record(
            rid=len(self.records),
            pid=person.pid,
            agency=agency,
            forenames=forenames,
            surname=surname,
            dob="" if missing == "dob" else self._dob(person.dob, faults),
            postcode="" if missing == "postcode" else self._postcode(person, faults),
            nhs=self._nhs(person.nhs, faults) if carries_nhs and missing != "nhs" else "",
            aliases=aliases,
            faults=frozenset(faults),
        )

    def _names(
        self, person: Person, child: bool, faults: set[str], blank_forename: bool
    ) -> tuple[str, str]:
        rng = self.rng
        first, surname = person.forenames[0], person.surname
        if person.previous_surname and self._fault("surname_changed", faults):
            surname = person.previous_surname
        if first in NICKNAMES and self._fault("nickname", faults):
            first = rng.choice(NICKNAMES[first])
        if first in _TRANSLIT and self._fault("transliteration", faults):
            first = rng.choice([v for v in _TRANSLIT[first] if v != first])
        elif surname in _TRANSLIT and self._fault("transliteration", faults):
            surname = rng.choice([v for v in _TRANSLIT[surname] if v != surname])
        if self._fault("name_typo", faults):
            if rng.random() < 0.5:
                first = typo(first, rng)
            else:
                surname = typo(surname, rng)
        middle = person.forenames[1:] if rng.random() < 0.5 else ()
        forenames = " ".join((first, *middle))
        if blank_forename:
            forenames = "Baby" if child and rng.random() < 0.3 else ""
        forenames, surname = self._format_name(forenames, person.sex, child), self._format(surname)
        if self._fault("names_swapped", faults):
            forenames, surname = surname, forenames
        return forenames, surname

    def _fault(self, name: str, faults: set[str]) -> bool:
        if self.rng.random() < self.rates[name]:
            faults.add(name)
            return True
        return False

    def _format(self, name: str) -> str:
        rng = self.rng
        if rng.random() < 0.5:
            name = strip_accents(name)
        if "'" in name:
            name = name.replace("'", rng.choice(("'", "", " ", "’")))
        if "-" in name and rng.random() < 0.4:
            name = name.replace("-", rng.choice((" ", "")))
        return rng.choice((name, name, name.upper(), name.lower()))

    def _format_name(self, forenames: str, sex: str, child: bool) -> str:
        formatted = self._format(forenames)
        if formatted and not child and self.rng.random() < 0.1:
            formatted = f"{self.rng.choice(HONORIFICS[sex])} {formatted}"
        return formatted

    def _dob(self, dob: dt.date, faults: set[str]) -> str:
        rng = self.rng
        if dob.day <= 12 and dob.day != dob.month and self._fault("dob_day_month_swapped", faults):
            dob = dob.replace(day=dob.month, month=dob.day)
        if self._fault("dob_digit_error", faults):
            dob = digit_error(dob, rng)
        return rng.choice(DOB_FORMATS)(dob)

    def _postcode(self, person: Person, faults: set[str]) -> str:
        rng = self.rng
        code = person.postcode
        if self._fault("postcode_moved", faults):
            code = person.previous_postcode
        return rng.choice((code, code.lower(), code.replace(" ", ""), f" {code}  "))

    def _nhs(self, nhs: str, faults: set[str]) -> str:
        rng = self.rng
        if self._fault("nhs_mistyped", faults):
            nhs = mistype_nhs(nhs, rng)
        return rng.choice(
            (nhs, f"{nhs[:3]} {nhs[3:6]} {nhs[6:]}", f"{nhs[:3]}-{nhs[3:6]}-{nhs[6:]}")
        )


def _child(person: Person) -> bool:
    return (TODAY - person.dob).days < 18 * 365


def valid_nhs_numbers(first_nine: int) -> Iterator[str]:
    """Yield the valid NHS numbers in order from the one whose first nine digits are given."""
    for prefix in itertools.count(first_nine):
        check = nhs_check_digit(str(prefix))
        if check is not None:
            yield f"{prefix}{check}"


def typo(name: str, rng: random.Random) -> str:
    """Return name with one insertion, deletion, substitution or adjacent transposition."""
    if len(name) < 2:
        return name + rng.choice(string.ascii_lowercase)
    i = rng.randrange(len(name))
    letter = rng.choice([c for c in string.ascii_lowercase if c != name[i].lower()])
    kind = rng.choice(("insert", "delete", "substitute", "transpose"))
    if kind == "insert":
        return name[:i] + letter + name[i:]
    if kind == "delete":
        return name[:i] + name[i + 1 :]
    if kind == "substitute":
        return name[:i] + letter + name[i + 1 :]
    i = min(i, len(name) - 2)
    return name[:i] + name[i + 1] + name[i] + name[i + 2 :]


def digit_error(dob: dt.date, rng: random.Random) -> dt.date:
    """Return dob with the last digit of its day or of its year wrong (still a real date)."""
    while True:
        digit = rng.randrange(10)
        try:
            if rng.random() < 0.5:
                wrong = dob.replace(day=dob.day - dob.day % 10 + digit)
            else:
                wrong = dob.replace(year=dob.year - dob.year % 10 + digit)
        except ValueError:
            continue
        if wrong != dob:
            return wrong


def mistype_nhs(nhs: str, rng: random.Random) -> str:
    """Return nhs with one digit changed or two adjacent different digits swapped."""
    while True:
        digits = list(nhs)
        i = rng.randrange(9)
        if rng.random() < 0.5:
            i = rng.randrange(10)
            digits[i] = rng.choice([d for d in "0123456789" if d != digits[i]])
        elif digits[i] != digits[i + 1]:
            digits[i], digits[i + 1] = digits[i + 1], digits[i]
        else:
            continue
        wrong = "".join(digits)
        if nhs_check_digit(wrong[:9]) != int(wrong[9]):
            return wrong


def strip_accents(text: str) -> str:
    """Return text as an English keyboard would type it: "Yılmaz" → "Yilmaz"."""
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c)).replace("ı", "i")


def identity_of(record: Record) -> Identity:
    return Identity.from_fields(
        record.forenames, record.surname, record.dob, record.postcode, record.nhs, record.aliases
    )


Pair = tuple[int, int]


@dataclass
class Results:
    """The true pairs, and the pairs each key class predicts."""

    true_pairs: set[Pair]
    by_class: dict[str, set[Pair]]
    predicted: set[Pair]
    keys: int
    keys_by_class: Counter[str]


def pairs_of(groups: Iterable[list[int]]) -> Iterable[Pair]:
    """Every pair of distinct record ids within each group."""
    for members in groups:
        if len(members) > 1:
            yield from itertools.combinations(sorted(set(members)), 2)


def evaluate(identities: list[Identity], records: list[Record]) -> Results:
    """Predict a pair wherever two records share a key, through an inverted index key → records."""
    index: dict[bytes, list[int]] = defaultdict(list)
    class_of: dict[bytes, str] = {}
    keys_by_class: Counter[str] = Counter()
    for record, identity in zip(records, identities, strict=True):
        for key in derive_keys(identity):
            index[key.value].append(record.rid)
            class_of[key.value] = key.key_class
            keys_by_class[key.key_class] += 1
    by_class: dict[str, set[Pair]] = {name: set() for name in KEY_CLASSES}
    for value, members in index.items():
        by_class[class_of[value]].update(pairs_of([members]))
    by_person: dict[int, list[int]] = defaultdict(list)
    for r in records:
        by_person[r.pid].append(r.rid)
    true_pairs = set(pairs_of(by_person.values()))
    predicted = set().union(*by_class.values())
    return Results(true_pairs, by_class, predicted, keys_by_class.total(), keys_by_class)


def time_keys(records: list[Record]) -> tuple[float, float]:
    """Return CPU µs per record of Identity.from_fields + derive_keys: first pass, then warm.

    CPU time of this process, not wall time, so that other work on the machine does not count.
    """
    rows = [(r.forenames, r.surname, r.dob, r.postcode, r.nhs, r.aliases) for r in records]
    timings = []
    for _ in range(4):
        started = time.process_time()
        for row in rows:
            derive_keys(Identity.from_fields(*row))
        timings.append((time.process_time() - started) / len(rows) * 1e6)
    return timings[0], min(timings[1:])


def _codes(codec: Callable[[str], str]) -> Callable[[Identity], Iterable[object]]:
    def candidate(identity: Identity) -> Iterable[object]:
        family = surname_key(identity.surname)
        if not identity.date_of_birth or not family:
            return ()
        return [
            (
                *sorted((codec(forename) or forename, codec(family) or family)),
                identity.date_of_birth,
            )
            for forename in canonical_forenames(identity.forenames)
        ]

    return candidate


def _candidate(
    fields: Callable[[str, str, Identity], object | None],
) -> Callable[[Identity], Iterable[object]]:
    def candidate(identity: Identity) -> Iterable[object]:
        family = surname_key(identity.surname)
        if not family:
            return ()
        found = (
            fields(forename, family, identity)
            for forename in canonical_forenames(identity.forenames)
        )
        return [f for f in found if f is not None]

    return candidate


def _dob_key(*parts: object) -> object | None:
    return None if any(p is None or p == "" for p in parts) else parts


# Keys measured and left out (see report), and the phonetic codecs compared. The last four: the
# corrections of a mistyped NHS number without the surname, or with the date of birth instead,
# and the two version 1 classes short_name_bday_postcode replaced.
CANDIDATES: dict[str, Callable[[Identity], Iterable[object]]] = {
    "name_postcode": _candidate(lambda f, s, i: _dob_key(*sorted((f, s)), i.postcode)),
    "soundex_surname_initial_dob": _candidate(
        lambda f, s, i: _dob_key(jellyfish.soundex(s), f[0], i.date_of_birth)
    ),
    "forename_end_surname_dob": _candidate(lambda f, s, i: _dob_key(f[-3:], s, i.date_of_birth)),
    "forename_surname_end_dob": _candidate(lambda f, s, i: _dob_key(f, s[-3:], i.date_of_birth)),
    "name_year_month_postcode": _candidate(
        lambda f, s, i: _dob_key(
            *sorted((f, s)), i.postcode, i.date_of_birth and i.date_of_birth.strftime("%Y-%m")
        )
    ),
    "nhs_near": near_numbers,
    "nhs_near_dob": lambda i: [(n, i.date_of_birth) for n in near_numbers(i) if i.date_of_birth],
    "v1_short_name_dob_postcode": _candidate(
        lambda f, s, i: _dob_key(f, s[0], i.date_of_birth, i.postcode)
    ),
    "v1_name_birthday_postcode": _candidate(
        lambda f, s, i: _dob_key(
            *sorted((f, s)), i.postcode, i.date_of_birth and i.date_of_birth.strftime("%m-%d")
        )
    ),
}
PHONETIC_CODECS: dict[str, Callable[[Identity], Iterable[object]]] = {
    "soundex": _codes(jellyfish.soundex),
    "metaphone": _codes(jellyfish.metaphone),
    "nysiis": _codes(jellyfish.nysiis),
    "match_rating_codex": _codes(jellyfish.match_rating_codex),
}


def measure_candidate(
    candidate: Callable[[Identity], Iterable[object]],
    identities: list[Identity],
    results: Results,
    baseline: set[Pair],
) -> tuple[int, int, int]:
    """Return the true pairs a candidate key finds, those beyond baseline, and its new false ones."""
    index: dict[object, list[int]] = defaultdict(list)
    for rid, identity in enumerate(identities):
        for key in candidate(identity):
            index[key].append(rid)
    found = set(pairs_of(index.values()))
    true = found & results.true_pairs
    return len(true), len(true - baseline), len(found - results.true_pairs - baseline)


def missed_faults(records: list[Record], results: Results) -> Counter[str]:
    """Fault combinations of the true pairs no key found."""
    counter: Counter[str] = Counter()
    for a, b in results.true_pairs - results.predicted:
        label = " + ".join(sorted(records[a].faults | records[b].faults)) or "(no fault)"
        no_nhs = not (records[a].nhs and records[b].nhs)
        counter[label + ("  [no NHS number on one]" if no_nhs else "")] += 1
    return counter


def false_pair_examples(
    records: list[Record], people: list[Person], results: Results, limit: int
) -> list[str]:
    lines = []
    for a, b in sorted(results.predicted - results.true_pairs)[:limit]:
        ra, rb = records[a], records[b]
        classes = ",".join(c for c, pairs in results.by_class.items() if (a, b) in pairs)
        same = people[ra.pid].household == people[rb.pid].household
        lines.append(
            f"    {classes}: {ra.forenames!r} {ra.surname!r} {ra.dob!r} / "
            f"{rb.forenames!r} {rb.surname!r} {rb.dob!r} ({'same' if same else 'other'} household)"
        )
    return lines


def identifiable(a: Identity, b: Identity) -> bool:
    """True if two records share what some key needs: a valid NHS number, or a forename and a
    date of birth on both (every name-based key needs both)."""
    if a.nhs_number and a.nhs_number == b.nhs_number:
        return True
    return bool(
        a.date_of_birth
        and b.date_of_birth
        and canonical_forenames(a.forenames)
        and canonical_forenames(b.forenames)
    )


def report(
    scenario: str, people: list[Person], records: list[Record], results: Results
) -> tuple[float, float]:
    identities = [identity_of(r) for r in records]
    true, predicted = results.true_pairs, results.predicted
    found = predicted & true
    recall = len(found) / len(true)
    precision = len(found) / len(predicted) if predicted else 1.0
    coverable = [p for p in true if identifiable(identities[p[0]], identities[p[1]])]
    print(f"\n== scenario {scenario!r}: {SCENARIO_TEXT[scenario]}")
    print(
        f"   {len(records)} records, {len(true)} true pairs, {results.keys / len(records):.1f} keys/record"
    )
    print(
        f"   recall    {recall:.4f}  ({len(found)} true pairs found, {len(true) - len(found)} missed)"
    )
    print(f"   precision {precision:.5f} ({len(predicted) - len(found)} false pairs)")
    covered = sum(1 for p in coverable if p in predicted)
    print(
        f"   recall of the {len(coverable)} pairs sharing a valid NHS number or a forename and a "
        f"DOB on both: {covered / len(coverable):.4f}"
    )
    print(
        f"\n   {'key class':<25}{'strength':<10}{'true pairs':>11}{'only this':>11}{'false':>7}{'keys/record':>13}"
    )
    for name, strength in KEY_CLASSES.items():
        pairs = results.by_class[name]
        others = set().union(*(p for c, p in results.by_class.items() if c != name))
        print(
            f"   {name:<25}{strength.value:<10}{len(pairs & true):>11}"
            f"{len((pairs & true) - others):>11}{len(pairs - true):>7}"
            f"{results.keys_by_class[name] / len(records):>13.2f}"
        )
    without_phonetic = set().union(*(p for c, p in results.by_class.items() if c != "phonetic_dob"))
    print(
        "\n   phonetic codec in the phonetic_dob key: true pairs, of which no other class finds, false"
    )
    for name, codec in PHONETIC_CODECS.items():
        hits, new, false = measure_candidate(codec, identities, results, without_phonetic)
        print(f"     {name:<26}{hits:>8}{new:>8}{false:>7}")
    print(
        "\n   candidate classes left out: true pairs, of which the key set misses, new false pairs"
    )
    for name, candidate in CANDIDATES.items():
        hits, new, false = measure_candidate(candidate, identities, results, predicted)
        print(f"     {name:<26}{hits:>8}{new:>8}{false:>7}")
    print("\n   recall among the pairs where either record has a fault")
    for fault in sorted({f for r in records for f in r.faults}):
        pairs = [p for p in true if fault in records[p[0]].faults | records[p[1]].faults]
        hit = sum(1 for p in pairs if p in predicted)
        print(f"     {fault:<24}{hit / len(pairs):.4f}  of {len(pairs)}")
    print("\n   missed pairs by the faults of their two records (top 10)")
    for label, count in missed_faults(records, results).most_common(10):
        print(f"     {count:>5}  {label}")
    print("\n   false pairs (first 8)")
    print("\n".join(false_pair_examples(records, people, results, 8)) or "     none")
    return recall, precision


SCENARIO_TEXT = {
    "brief": "every record carries an NHS number unless a missing-field fault blanks it",
    "agency": "NHS numbers carried as agencies hold them (health 97%, police 10%, ...)",
}


def count_twin_pairs(people: list[Person]) -> int:
    births: Counter[tuple[int, dt.date]] = Counter((p.household, p.dob) for p in people)
    return sum(n * (n - 1) // 2 for n in births.values())


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--people", type=int, default=20_000, help="population size (20000)")
    parser.add_argument("--seed", type=int, default=1, help="random seed (1)")
    parser.add_argument(
        "--fault-scale", type=float, default=1.0, help="multiply every fault rate by this (1.0)"
    )
    args = parser.parse_args(argv)
    rates = {name: min(1.0, rate * args.fault_scale) for name, rate in FAULT_RATES.items()}
    people = Population(random.Random(args.seed), args.people).build()
    print(f"Matching quality of match-key set v{KEY_SET_VERSION} (bench/matching_quality.py)")
    print(
        f"  run       {dt.datetime.now(dt.UTC):%Y-%m-%d %H:%M} UTC; {platform.platform()}; "
        f"{os.cpu_count()} CPUs; Python {platform.python_version()}"
    )
    print(
        f"  data      seed {args.seed}; {len(people)} people in {people[-1].household + 1} "
        f"households; {count_twin_pairs(people)} twin pairs; fault rates x{args.fault_scale}"
    )
    print("            names from node.synthetic.names, postcodes from node.synthetic.places")
    summary: dict[str, tuple[float, float]] = {}
    cold = warm = 0.0
    for scenario, nhs_carried in SCENARIOS.items():
        records = RecordWriter(random.Random(args.seed + 1), nhs_carried, rates).write_all(people)
        if scenario == "brief":  # first, while the normalisers' caches are cold
            cold, warm = time_keys(records)
        results = evaluate([identity_of(r) for r in records], records)
        summary[scenario] = report(scenario, people, records, results)
    print(
        f"\n  Identity.from_fields + derive_keys: {cold:.1f} µs/record (CPU) on a first pass over "
        f"the brief records, {warm:.1f} µs/record with warm caches (best of 3)"
    )
    print(
        f"\n  {'scenario':<10}{'recall':>8}{'precision':>11}   target: recall >= {TARGET_RECALL} "
        f"at precision >= {TARGET_PRECISION} on >= 20,000 people"
    )
    for scenario, (recall, precision) in summary.items():
        met = recall >= TARGET_RECALL and precision >= TARGET_PRECISION and len(people) >= 20_000
        print(f"  {scenario:<10}{recall:>8.4f}{precision:>11.5f}   {'met' if met else 'NOT met'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
