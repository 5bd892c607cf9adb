"""A synthetic borough population: households of families, couples and single adults, as the truth.

Each Person is one real-world individual as they truly are (the agencies' extracts then record them
imperfectly). Families have children who share a surname and address, sometimes twins, one or two
adults, sometimes a step-parent with another surname; single adults include vulnerable adults.
Everything is drawn from the caller's random.Random, so a seed gives the same borough every time.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Iterator
from dataclasses import dataclass, replace
from itertools import accumulate

from node.matching.nhs import nhs_check_digit
from node.synthetic.names import ENGLISH, NAME_GROUPS, NAME_GROUPS_BY_KEY, NameGroup
from node.synthetic.places import BLOCK_SUFFIXES, BOROUGHS, Borough, get_borough, postcode_in

FEMALE = "F"
MALE = "M"

CHILD = "child"
PARENT = "parent"
STEP_PARENT = "step-parent"
ADULT = "adult"

TENURES = ("owner", "private-rent", "social-rent", "temporary")
"""How a household holds its home; social-rent and temporary households are known to housing."""

NEED_LEVELS = ("universal", "early help", "targeted", "statutory")
"""The continuum of need; Household.need indexes it and drives how many agencies know a family."""

_NAME_PREFIXES = frozenset({"Mohammed", "Muhammad", "Abdul"})  # always followed by a given name


@dataclass(frozen=True)
class Person:
    """One individual as they truly are; the extracts record them with faults."""

    person_id: str
    forenames: str
    surname: str
    sex: str
    date_of_birth: dt.date
    nhs_number: str
    address: str
    postcode: str
    role: str = ADULT
    """child, parent, step-parent, or adult (no children in the household)."""
    previous_surname: str = ""
    """A surname formerly used (birth name before marriage, former married name)."""
    previous_address: str = ""
    previous_postcode: str = ""
    vulnerable: bool = False

    def age_on(self, day: dt.date) -> int:
        """Return the person's age in whole years on the given day."""
        had_birthday = (day.month, day.day) >= (self.date_of_birth.month, self.date_of_birth.day)
        return day.year - self.date_of_birth.year - (0 if had_birthday else 1)


@dataclass(frozen=True)
class Household:
    """People living at one address."""

    household_id: str
    people: tuple[Person, ...]
    address: str
    postcode: str
    tenure: str
    need: int
    """Index into NEED_LEVELS: 0 universal … 3 statutory."""
    heritage: str

    @property
    def children(self) -> tuple[Person, ...]:
        return tuple(person for person in self.people if person.role == CHILD)

    @property
    def adults(self) -> tuple[Person, ...]:
        return tuple(person for person in self.people if person.role != CHILD)


def generate_population(
    borough: str, households: int, rng: random.Random, *, as_of: dt.date | None = None
) -> list[Household]:
    """Return the given number of households of the borough, ages reckoned on as_of (today)."""
    return list(iter_households(borough, households, rng, as_of=as_of))


def iter_households(
    borough: str, households: int, rng: random.Random, *, as_of: dt.date | None = None
) -> Iterator[Household]:
    """Yield the same households as generate_population, one at a time."""
    builder = _Builder(get_borough(borough), rng, as_of or dt.date.today())
    for index in range(households):
        yield builder.household(index)


def moved_to(household: Household, borough: str, rng: random.Random) -> Household:
    """The household after a move to `borough`: a new address there, the old one kept as each
    person's previous address (the agencies of both boroughs then know them, each in its way)."""
    builder = _Builder(get_borough(borough), rng, dt.date.today())
    address = builder._address(builder.borough)
    postcode = postcode_in(borough, rng)
    people = tuple(
        replace(
            person,
            address=address,
            postcode=postcode,
            previous_address=household.address,
            previous_postcode=household.postcode,
        )
        for person in household.people
    )
    return replace(
        household,
        household_id=f"{household.household_id}-moved-{borough}",
        people=people,
        address=address,
        postcode=postcode,
    )


def years_before(day: dt.date, years: int) -> dt.date:
    """Return the same calendar day the given number of years earlier (29 February → 28th)."""
    try:
        return day.replace(year=day.year - years)
    except ValueError:
        return day.replace(year=day.year - years, day=28)


def _pick(rng: random.Random, items: tuple[str, ...], cum_weights: list[float]) -> str:
    return rng.choices(items, cum_weights=cum_weights)[0]


@dataclass(frozen=True)
class _Home:
    address: str
    postcode: str
    previous_address: str
    previous_postcode: str


@dataclass(frozen=True)
class _Name:
    forenames: str
    surname: str
    previous_surname: str = ""


class _Builder:
    """Draws households one after another, keeping NHS numbers unique."""

    def __init__(self, borough: Borough, rng: random.Random, as_of: dt.date) -> None:
        self.borough = borough
        self.rng = rng
        self.as_of = as_of
        self.used_nhs: set[str] = set()
        self.people = 0
        boost = dict(borough.heritage)
        self.group_keys = tuple(group.key for group in NAME_GROUPS)
        self.group_cum = list(
            accumulate(group.weight * boost.get(group.key, 1.0) for group in NAME_GROUPS)
        )
        self.surname_cum = {
            group.key: list(accumulate(weight for _, weight in group.surnames))
            for group in NAME_GROUPS
        }

    # --- households -----------------------------------------------------------------------------

    def household(self, index: int) -> Household:
        rng = self.rng
        kind = rng.choices(("family", "couple", "single"), weights=(52, 16, 32))[0]
        tenure = rng.choices(TENURES, weights=(38, 30, 27, 5))[0]
        need_weights = {
            "owner": (75, 17, 6, 2),
            "private-rent": (62, 22, 11, 5),
            "social-rent": (45, 28, 17, 10),
            "temporary": (25, 30, 25, 20),
        }[tenure]
        need = rng.choices(range(4), weights=need_weights)[0]
        group = self._group()
        home = self._home()
        if kind == "family":
            people = self._family(group, home)
        elif kind == "couple":
            people = self._couple(group, home)
        else:
            people = [self._single(group, home)]
        return Household(
            household_id=f"{self.borough.code}-H{index:06d}",
            people=tuple(people),
            address=home.address,
            postcode=home.postcode,
            tenure=tenure,
            need=need,
            heritage=group.key,
        )

    def _family(self, group: NameGroup, home: _Home) -> list[Person]:
        rng = self.rng
        ages = self._child_ages()
        mother_age = min(max(18, ages[0] + rng.randint(16, 42)), 62)
        single_parent = rng.random() < 0.35
        father_surname = self._surname(group)
        mother_birth_surname = self._surname(group)
        people: list[Person] = []
        if single_parent and rng.random() < 0.88:
            # Children carry the mother's surname, or the absent father's (which she may have had).
            children_surname = mother_birth_surname if rng.random() < 0.6 else father_surname
            had_his_name = children_surname == father_surname and rng.random() < 0.5
            previous = father_surname if had_his_name else ""
            mother = _Name(self._forenames(group, FEMALE), mother_birth_surname, previous)
            people.append(self._adult(mother, FEMALE, mother_age, PARENT, home))
        elif single_parent:
            children_surname = father_surname
            father = _Name(self._forenames(group, MALE), father_surname)
            people.append(self._adult(father, MALE, mother_age + rng.randint(-3, 8), PARENT, home))
        else:
            step_parent = rng.random() < 0.18
            partner_group = self._group() if rng.random() < 0.12 else group
            married = rng.random() < 0.6
            children_surname = father_surname
            if not married and rng.random() < 0.3:
                children_surname = mother_birth_surname
            elif not married and rng.random() < 0.06:
                children_surname = f"{mother_birth_surname}-{father_surname}"
            partner_surname = self._surname(partner_group) if step_parent else father_surname
            if married:
                mother = _Name(
                    self._forenames(group, FEMALE), partner_surname, mother_birth_surname
                )
            else:
                mother = _Name(self._forenames(group, FEMALE), mother_birth_surname)
            mother = self._maybe_female_surname(group, mother)
            partner_sex = MALE if rng.random() < 0.96 else FEMALE
            partner = _Name(self._forenames(partner_group, partner_sex), partner_surname)
            if partner_sex == FEMALE:
                partner = _Name(partner.forenames, self._surname(partner_group))
            partner_age = max(18, mother_age + rng.randint(-4, 9))
            people.append(self._adult(mother, FEMALE, mother_age, PARENT, home))
            role = STEP_PARENT if step_parent else PARENT
            people.append(self._adult(partner, partner_sex, partner_age, role, home))
        people.extend(self._children(group, children_surname, ages, home))
        return people

    def _couple(self, group: NameGroup, home: _Home) -> list[Person]:
        rng = self.rng
        age = rng.randint(20, 85)
        surname = self._surname(group)
        if rng.random() < 0.55:
            first = _Name(self._forenames(group, FEMALE), surname, self._surname(group))
        else:
            first = _Name(self._forenames(group, FEMALE), self._surname(group))
        first = self._maybe_female_surname(group, first)
        second = _Name(self._forenames(group, MALE), surname)
        second_age = min(98, max(18, age + rng.randint(-4, 8)))
        return [
            self._adult(first, FEMALE, age, ADULT, home),
            self._adult(second, MALE, second_age, ADULT, home),
        ]

    def _single(self, group: NameGroup, home: _Home) -> Person:
        rng = self.rng
        band = rng.choices(((18, 29), (30, 59), (60, 95)), weights=(25, 40, 35))[0]
        age = rng.randint(*band)
        sex = FEMALE if rng.random() < 0.5 else MALE
        previous = self._surname(group) if sex == FEMALE and age > 30 and rng.random() < 0.3 else ""
        name = _Name(self._forenames(group, sex), self._surname(group), previous)
        vulnerable = rng.random() < (0.4 if age >= 75 else 0.15)
        return self._person(name, sex, age, ADULT, home, vulnerable=vulnerable)

    # --- people ---------------------------------------------------------------------------------

    def _adult(self, name: _Name, sex: str, age: int, role: str, home: _Home) -> Person:
        vulnerable = self.rng.random() < 0.04
        return self._person(name, sex, age, role, home, vulnerable=vulnerable)

    def _children(
        self, group: NameGroup, surname: str, ages: list[int], home: _Home
    ) -> list[Person]:
        rng = self.rng
        children: list[Person] = []
        twin_of: Person | None = None
        for age in ages:
            sex = FEMALE if rng.random() < 0.5 else MALE
            name_group = ENGLISH if group is not ENGLISH and rng.random() < 0.2 else group
            name = _Name(self._forenames(name_group, sex, avoid=children), surname)
            if twin_of is not None and twin_of.age_on(self.as_of) == age:
                child = self._person(name, sex, age, CHILD, home, born=twin_of.date_of_birth)
            else:
                child = self._person(name, sex, age, CHILD, home)
            children.append(child)
            twin_of = child
        return children

    def _child_ages(self) -> list[int]:
        rng = self.rng
        count = rng.choices((1, 2, 3, 4, 5), weights=(38, 36, 17, 7, 2))[0]
        ages = [rng.randint(0, 17)]
        while len(ages) < count:
            gap = 0 if rng.random() < 0.03 else rng.randint(1, 5)
            if ages[-1] - gap < 0:
                break
            ages.append(ages[-1] - gap)
        return ages

    def _person(
        self,
        name: _Name,
        sex: str,
        age: int,
        role: str,
        home: _Home,
        *,
        vulnerable: bool = False,
        born: dt.date | None = None,
    ) -> Person:
        self.people += 1
        return Person(
            person_id=f"{self.borough.code}-{self.people:07d}",
            forenames=name.forenames,
            surname=name.surname,
            sex=sex,
            date_of_birth=born or self._birth_date(age),
            nhs_number=self._nhs_number(),
            address=home.address,
            postcode=home.postcode,
            role=role,
            previous_surname=name.previous_surname,
            previous_address=home.previous_address,
            previous_postcode=home.previous_postcode,
            vulnerable=vulnerable,
        )

    def _birth_date(self, age: int) -> dt.date:
        latest = years_before(self.as_of, age)
        earliest = years_before(self.as_of, age + 1) + dt.timedelta(days=1)
        span = (latest - earliest).days
        return earliest + dt.timedelta(days=self.rng.randint(0, span))

    def _nhs_number(self) -> str:
        while True:
            first_nine = f"{self.rng.randint(4, 7)}{self.rng.randrange(10**8):08d}"
            check = nhs_check_digit(first_nine)
            number = f"{first_nine}{check}"
            if check is not None and number not in self.used_nhs:
                self.used_nhs.add(number)
                return number

    # --- names and places -----------------------------------------------------------------------

    def _group(self) -> NameGroup:
        key = _pick(self.rng, self.group_keys, self.group_cum)
        return NAME_GROUPS_BY_KEY[key]

    def _surname(self, group: NameGroup) -> str:
        return self.rng.choices(group.surnames, cum_weights=self.surname_cum[group.key])[0][0]

    def _maybe_female_surname(self, group: NameGroup, name: _Name) -> _Name:
        """A woman of a heritage with women's surnames (Begum, Kaur) often uses one."""
        if not group.female_surnames or self.rng.random() >= 0.4:
            return name
        names = tuple(surname for surname, _ in group.female_surnames)
        weights = [weight for _, weight in group.female_surnames]
        return _Name(name.forenames, self.rng.choices(names, weights=weights)[0])

    def _forenames(self, group: NameGroup, sex: str, avoid: list[Person] | None = None) -> str:
        rng = self.rng
        pool = group.female if sex == FEMALE else group.male
        taken = {person.forenames.split()[0] for person in avoid or []}
        first = rng.choice(pool)
        while first in taken and len(pool) > len(taken):
            first = rng.choice(pool)
        if first in _NAME_PREFIXES or rng.random() < 0.3:
            middle = rng.choice(pool)
            while middle == first or middle in _NAME_PREFIXES:
                middle = rng.choice(pool)
            return f"{first} {middle}"
        return first

    def _home(self) -> _Home:
        rng = self.rng
        address = self._address(self.borough)
        postcode = postcode_in(self.borough.code, rng)
        if rng.random() >= 0.15:
            return _Home(address, postcode, "", "")
        elsewhere = self.borough if rng.random() < 0.8 else rng.choice(list(BOROUGHS.values()))
        return _Home(address, postcode, self._address(elsewhere), postcode_in(elsewhere.code, rng))

    def _address(self, borough: Borough) -> str:
        rng = self.rng
        street = rng.choice(borough.streets)
        style = rng.random()
        if style < 0.3:
            block = f"{rng.choice(borough.streets).split()[0]} {rng.choice(BLOCK_SUFFIXES)}"
            return f"Flat {rng.randint(1, 80)}, {block}, {street}"
        number = rng.randint(1, 240)
        if style < 0.45:
            return f"Flat {rng.choice('ABCD')}, {number} {street}"
        return f"{number} {street}"
