"""The labelled synthetic population the matching benchmark measures: people in households, and
the records agencies write of them with the faults of a fault preset.

People live in households (single adults, couples, families with children, grandparents, twins
at a real rate, now and then a son named after his father), with names from
node.synthetic.names, postcodes from node.synthetic.places at a real London density, and NHS
numbers issued as maternity units issue them. Each person has 1–4 agency records, formatted as
agencies write and with the faults of a preset (PRESETS), drawn independently from a seeded
generator, so that a seed always gives the same people and records.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import itertools
import random
import string
import unicodedata
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field

from node.matching.keys import Identity
from node.matching.nhs import nhs_check_digit
from node.synthetic import variants
from node.synthetic.names import NAME_GROUPS, NameGroup
from node.synthetic.places import postcode_in

TODAY = dt.date(2025, 6, 1)  # fixed, so a seed always gives the same population
EARLIEST_BIRTH = dt.date(1900, 1, 1)  # the import refuses a date of birth before this
BOROUGH = "hackney"
RESIDENTS_PER_POSTCODE = 40  # a London postcode unit has roughly 15-20 households

# Share of records showing each fault, among the records where it can occur (a nickname needs a
# name that has one; a day/month swap a day of 12 or less; a mistyped NHS number a record that
# carries one). Faults are drawn independently, so they combine. The first seven are the faults
# of the brief, each at 5-15%; the last three are other faults real agency data has. A fault not
# named has rate 0 and draws nothing, so adding one leaves every other preset's records as they were.
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
# Fields a preset may blank independently of each other (fault "<field>_missing").
BLANKABLE = ("dob", "forename", "postcode", "nhs")

# The faults of agency extracts as a public person-record benchmark shows them (the team does not
# see that benchmark, so that nobody tunes to it; its faults are described in the issue). Each
# field is blanked on its own, so a record may lack several; a name fault cuts the name short 4
# times in 10 ("Ne" for Ned) and otherwise mistypes it; a wrong date digit may be any of the eight;
# two neighbouring characters of a postcode are swapped; and sons named after their father (at his
# address) are five times as common. The other faults are as in FAULT_RATES.
MESSY_RATES: dict[str, float] = {
    **FAULT_RATES,
    "field_missing": 0.0,
    "dob_missing": 0.05,
    "forename_missing": 0.03,
    "postcode_missing": 0.035,
    "nhs_missing": 0.05,  # of the records that carry one
    "name_typo": 0.10,  # of which 40% truncated (fault "name_truncated")
    "names_swapped": 0.05,
    "dob_digit_error": 0.03,  # any digit of DDMMYYYY, still a real date
    "postcode_swapped": 0.03,
    "nhs_mistyped": 0.05,
}


@dataclass(frozen=True)
class FaultPreset:
    """A named set of faults: their rates, and how a few of them are made."""

    description: str
    rates: dict[str, float]
    namesake_son_rate: float  # share of sons living with their father who are given his names
    truncated_share: float = 0.0  # of name typos, the share that cut the name short instead
    any_date_digit: bool = (
        False  # a date digit error may hit any digit (else the day's or year's last)
    )

    def scaled(self, scale: float) -> FaultPreset:
        rates = {name: min(1.0, rate * scale) for name, rate in self.rates.items()}
        return dataclasses.replace(self, rates=rates)


PRESETS: dict[str, FaultPreset] = {
    "default": FaultPreset(
        "one missing field in 10, 2% date digit errors, a namesake son in 100",
        FAULT_RATES,
        namesake_son_rate=0.01,
    ),
    "messy": FaultPreset(
        "fields blanked independently (date of birth 5%, forename 3%, postcode 3.5%, NHS number"
        " 5%), names cut short or mistyped 10%, any date digit wrong 3%, postcode characters"
        " swapped 3%, a namesake son in 20",
        MESSY_RATES,
        namesake_son_rate=0.05,
        truncated_share=0.4,
        any_date_digit=True,
    ),
}

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
RECORDS_PER_PERSON = {1: 35, 2: 30, 3: 20, 4: 15}
TWIN_RATE = 0.015  # twin maternities in England and Wales: about 1.5%
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

    def __init__(self, rng: random.Random, size: int, namesake_son_rate: float) -> None:
        self.rng = rng
        self.size = size
        self.namesake_son_rate = namesake_son_rate
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
                namesake = (
                    father is not None and sex == "M" and rng.random() < self.namesake_son_rate
                )
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
        self, rng: random.Random, nhs_carried: dict[str, float], preset: FaultPreset
    ) -> None:
        self.rng = rng
        self.nhs_carried = nhs_carried
        self.preset = preset
        self.rates = preset.rates
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
        missing: set[str] = set()
        if self._fault("field_missing", faults):
            fields = [f for f in MISSING_FIELD if f != "nhs" or carries_nhs]
            missing.add(rng.choices(fields, weights=[MISSING_FIELD[f] for f in fields])[0])
            faults.discard("field_missing")
            faults.update(f"{field}_missing" for field in missing)
        for blank in BLANKABLE:
            if (blank != "nhs" or carries_nhs) and self._fault(f"{blank}_missing", faults):
                missing.add(blank)
        forenames, surname = self._names(person, child, faults, "forename" in missing)
        aliases: tuple[str, ...] = ()
        if "surname_changed" in faults and rng.random() < ALIAS_RATE:
            aliases = (f"{person.forenames[0]} {person.surname}",)  # "also known as" the other
        return Record(
            rid=len(self.records),
            pid=person.pid,
            agency=agency,
            forenames=forenames,
            surname=surname,
            dob="" if "dob" in missing else self._dob(person.dob, faults),
            postcode="" if "postcode" in missing else self._postcode(person, faults),
            nhs=self._nhs(person.nhs, faults) if carries_nhs and "nhs" not in missing else "",
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
            mistype = typo
            if self.preset.truncated_share and rng.random() < self.preset.truncated_share:
                mistype = variants.truncate
                faults.discard("name_typo")
                faults.add("name_truncated")
            if rng.random() < 0.5:
                first = mistype(first, rng)
            else:
                surname = mistype(surname, rng)
        middle = person.forenames[1:] if rng.random() < 0.5 else ()
        forenames = " ".join((first, *middle))
        if blank_forename:
            forenames = "Baby" if child and rng.random() < 0.3 else ""
        forenames, surname = self._format_name(forenames, person.sex, child), self._format(surname)
        if self._fault("names_swapped", faults):
            forenames, surname = surname, forenames
        return forenames, surname

    def _fault(self, name: str, faults: set[str]) -> bool:
        rate = self.rates.get(name, 0.0)
        if rate > 0 and self.rng.random() < rate:
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
            if self.preset.any_date_digit:
                dob = variants.wrong_date_digit(dob, rng, EARLIEST_BIRTH, TODAY)
            else:
                dob = digit_error(dob, rng)
        return rng.choice(DOB_FORMATS)(dob)

    def _postcode(self, person: Person, faults: set[str]) -> str:
        rng = self.rng
        code = person.postcode
        if self._fault("postcode_moved", faults):
            code = person.previous_postcode
        if self._fault("postcode_swapped", faults):
            code = variants.swap_adjacent_characters(code, rng)
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
