"""The synthetic borough generator: true population, agency extracts, and data-entry faults."""

from __future__ import annotations

import csv
import datetime as dt
import json
import random
import re
from collections import Counter, defaultdict
from pathlib import Path
from typing import Any

import jellyfish
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.matching.nhs import nhs_check_digit
from node.matching.normalise import canonical_forenames, normalise_name, parse_date
from node.synthetic import variants
from node.synthetic.extracts import (
    AGENCY_CODES,
    ITEMS,
    PERSONS,
    README_FILE,
    SENSITIVITIES,
    SUMMARY_LIMIT,
    TRUTH_FILE,
    ExtractError,
    ExtractFile,
    iter_person_rows,
    pnc_id,
    upn,
    write_extracts,
)
from node.synthetic.names import FEMALE_FORENAMES, MALE_FORENAMES, SURNAMES
from node.synthetic.places import (
    BOROUGHS,
    LONDON_DISTRICTS,
    POSTCODE_PATTERN,
    UnknownBoroughError,
    postcode_district,
    postcode_in,
)
from node.synthetic.population import CHILD, STEP_PARENT, Household, Person, generate_population

AS_OF = dt.date(2025, 6, 1)
HOUSEHOLDS = 600
CUSTOM = "early-help"
_ISO = re.compile(r"^\d{4}-\d{2}-\d{2}$")
_UK = re.compile(r"^\d{2}/\d{2}/\d{4}$")


def _valid_nhs(number: str) -> bool:
    return len(number) == 10 and number.isdigit() and nhs_check_digit(number[:9]) == int(number[9])


def _people(households: list[Household]) -> list[Person]:
    return [person for household in households for person in household.people]


def _read(path: Path) -> list[dict[str, Any]]:
    with path.open(encoding="utf-8", newline="") as stream:
        if path.suffix == ".csv":
            return list(csv.DictReader(stream, strict=True))
        return [json.loads(line) for line in stream]


def _date(text: str) -> dt.date:
    if _ISO.match(text):
        return dt.date.fromisoformat(text)
    assert _UK.match(text), text
    day, month, year = text.split("/")
    return dt.date(int(year), int(month), int(day))


# --- population ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def population() -> list[Household]:
    return generate_population("hackney", 1500, random.Random(3), as_of=AS_OF)


def test_population_is_deterministic_for_a_seed() -> None:
    first = generate_population("lambeth", 200, random.Random(11), as_of=AS_OF)
    again = generate_population("lambeth", 200, random.Random(11), as_of=AS_OF)
    other = generate_population("lambeth", 200, random.Random(12), as_of=AS_OF)
    assert first == again
    assert first != other


def test_every_nhs_number_is_valid_unique_and_starts_4_to_7(population: list[Household]) -> None:
    numbers = [person.nhs_number for person in _people(population)]
    assert all(_valid_nhs(number) for number in numbers)
    assert len(set(numbers)) == len(numbers)
    assert {number[0] for number in numbers} == {"4", "5", "6", "7"}


def test_population_postcodes_are_in_the_borough(population: list[Household]) -> None:
    districts = set(BOROUGHS["hackney"].districts)
    for person in _people(population):
        assert POSTCODE_PATTERN.match(person.postcode), person.postcode
        assert postcode_district(person.postcode) in districts
        if person.previous_postcode:
            assert postcode_district(person.previous_postcode) in LONDON_DISTRICTS


def test_children_share_surname_and_address_and_families_have_one_or_two_adults(
    population: list[Household],
) -> None:
    families = [household for household in population if household.children]
    assert len(families) > len(population) / 3
    for household in families:
        assert 1 <= len(household.adults) <= 2
        assert len({child.surname for child in household.children}) == 1
        assert {person.address for person in household.people} == {household.address}
        assert all(0 <= child.age_on(AS_OF) <= 17 for child in household.children)
        assert all(adult.age_on(AS_OF) >= 18 for adult in household.adults)


def test_population_has_twins_step_parents_and_vulnerable_single_adults(
    population: list[Household],
) -> None:
    twins = [
        household
        for household in population
        if len({child.date_of_birth for child in household.children}) < len(household.children)
    ]
    step_families = [
        household
        for household in population
        for adult in household.adults
        if adult.role == STEP_PARENT and adult.surname != household.children[0].surname
    ]
    vulnerable_alone = [
        household
        for household in population
        if len(household.people) == 1 and household.people[0].vulnerable
    ]
    assert twins
    assert step_families
    assert vulnerable_alone


def test_common_surnames_recur(population: list[Household]) -> None:
    ranked = [name for name, _ in sorted(SURNAMES, key=lambda entry: -entry[1])]
    assert {"Smith", "Patel", "Jones", "Khan", "Ahmed", "Williams"} <= set(ranked[:20])
    assert len(FEMALE_FORENAMES) >= 200
    assert len(MALE_FORENAMES) >= 200
    assert len(SURNAMES) >= 300
    counts = Counter(person.surname for person in _people(population))
    assert counts.most_common(1)[0][1] >= 20


# --- places --------------------------------------------------------------------------------------


def test_all_33_london_authorities_are_known() -> None:
    assert len(BOROUGHS) == 33
    assert {"hackney", "tower-hamlets", "city-of-london"} <= set(BOROUGHS)
    assert BOROUGHS["hackney"].name == "Hackney"
    assert len({borough.la_code for borough in BOROUGHS.values()}) == 33


@pytest.mark.parametrize("code", sorted(BOROUGHS))
def test_postcode_in_gives_well_formed_postcodes_of_the_borough(code: str) -> None:
    rng = random.Random(code)
    for _ in range(50):
        postcode = postcode_in(code, rng)
        assert POSTCODE_PATTERN.match(postcode), postcode
        assert postcode_district(postcode) in BOROUGHS[code].districts


def test_unknown_borough_is_refused_by_name() -> None:
    with pytest.raises(UnknownBoroughError, match="'gotham'"):
        postcode_in("gotham", random.Random(1))


# --- extracts ------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def extract_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("extracts")


@pytest.fixture(scope="module")
def extracts(extract_dir: Path) -> list[ExtractFile]:
    agencies = (*AGENCY_CODES, CUSTOM)
    return write_extracts(
        "hackney", agencies, extract_dir, HOUSEHOLDS, seed=5, as_of=AS_OF, truth=True
    )


@pytest.fixture(scope="module")
def rows(extracts: list[ExtractFile]) -> dict[tuple[str, str], list[dict[str, Any]]]:
    return {(extract.agency, extract.kind): _read(extract.path) for extract in extracts}


@pytest.fixture(scope="module")
def truth(extracts: list[ExtractFile], extract_dir: Path) -> dict[tuple[str, str], Person]:
    people = {
        person.person_id: person
        for person in _people(
            generate_population("hackney", HOUSEHOLDS, random.Random(5), as_of=AS_OF)
        )
    }
    return {
        (row["agency"], row["record_id"]): people[row["person_id"]]
        for row in _read(extract_dir / TRUTH_FILE)
    }


def test_extracts_are_byte_identical_for_a_seed(tmp_path: Path) -> None:
    def files(seed: int, folder: str) -> dict[str, bytes]:
        written = write_extracts("newham", AGENCY_CODES, tmp_path / folder, 80, seed, as_of=AS_OF)
        return {extract.path.name: extract.path.read_bytes() for extract in written}

    assert files(9, "a") == files(9, "b")
    assert files(9, "a") != files(10, "c")


def test_each_agency_gets_a_persons_and_an_items_file_in_its_format(
    extracts: list[ExtractFile], rows: dict[tuple[str, str], list[dict[str, Any]]]
) -> None:
    assert {(extract.agency, extract.kind) for extract in extracts} == {
        (agency, kind) for agency in (*AGENCY_CODES, CUSTOM) for kind in (PERSONS, ITEMS)
    }
    by_agency = {extract.agency: extract.path.suffix for extract in extracts}
    assert by_agency["health"] == ".jsonl"
    assert by_agency["police"] == ".csv"
    for extract in extracts:
        assert extract.rows == len(rows[extract.agency, extract.kind]) > 0
    assert "SYNTHETIC" in (extracts[0].path.parent / README_FILE).read_text(encoding="utf-8")


def test_every_row_has_its_required_fields_and_unique_references(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    for (agency, kind), table in rows.items():
        key = "record_id" if kind == PERSONS else "item_ref"
        assert len({row[key] for row in table}) == len(table), (agency, kind)
        for row in table:
            if kind == PERSONS:
                assert row["record_id"] and row["surname"].strip()
            else:
                assert row["item_ref"] and row["record_id"] and row["category"]
                assert 0 < len(row["summary"]) <= SUMMARY_LIMIT
                assert row["sensitivity"] in SENSITIVITIES


def test_every_item_is_about_a_record_in_its_agency_persons_file(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    for agency in (*AGENCY_CODES, CUSTOM):
        record_ids = {row["record_id"] for row in rows[agency, PERSONS]}
        assert {row["record_id"] for row in rows[agency, ITEMS]} <= record_ids


def test_item_dates_are_in_the_last_five_years_and_sensitivity_mostly_standard(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    sensitivities: Counter[str] = Counter()
    for (_, kind), table in rows.items():
        if kind != ITEMS:
            continue
        for row in table:
            assert dt.date(2020, 6, 1) <= _date(row["date"]) <= AS_OF
            sensitivities[row["sensitivity"]] += 1
    total = sum(sensitivities.values())
    assert sensitivities["standard"] / total > 0.6
    assert 0 < sensitivities["highly-sensitive"] / total < 0.08


def test_dates_are_iso_or_day_first_as_the_agency_sends_them(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    education = [row["date_of_birth"] for row in rows["education", PERSONS] if row["date_of_birth"]]
    police = [row["date_of_birth"] for row in rows["police", PERSONS] if row["date_of_birth"]]
    assert all(_UK.match(text) for text in education)
    assert all(_ISO.match(text) for text in police)


def test_a_good_fraction_of_people_are_known_to_several_agencies(
    truth: dict[tuple[str, str], Person],
) -> None:
    agencies: defaultdict[str, set[str]] = defaultdict(set)
    for (agency, _), person in truth.items():
        agencies[person.person_id].add(agency)
    population = _people(generate_population("hackney", HOUSEHOLDS, random.Random(5), as_of=AS_OF))
    several = sum(1 for person in population if len(agencies[person.person_id]) >= 2)
    assert several / len(population) >= 0.2


def test_agencies_know_the_right_people(
    rows: dict[tuple[str, str], list[dict[str, Any]]], truth: dict[tuple[str, str], Person]
) -> None:
    def ages(agency: str) -> list[int]:
        return [truth[agency, row["record_id"]].age_on(AS_OF) for row in rows[agency, PERSONS]]

    assert all(4 <= age <= 18 for age in ages("education"))
    assert all(10 <= age <= 17 for age in ages("yot"))
    assert all(age >= 18 for age in ages("probation") + ages("housing"))
    assert all(age >= 18 for age in ages("adult-social-care"))
    csc = [
        truth["childrens-social-care", row["record_id"]]
        for row in rows["childrens-social-care", PERSONS]
    ]
    assert any(person.role == CHILD for person in csc)
    assert any(person.role != CHILD for person in csc)
    health = len(rows["health", PERSONS]) / len({person.person_id for person in truth.values()})
    assert health > 0.8


def test_agency_ids_and_free_fields_have_their_agency_shape(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    assert all(re.fullmatch(r"MPS-\d{7}", row["record_id"]) for row in rows["police", PERSONS])
    pnc = [row["pnc_id"] for row in rows["police", PERSONS] if row["pnc_id"]]
    assert pnc and all(re.fullmatch(r"\d{2}/\d{1,7}[A-Z]", value) for value in pnc)
    assert len(pnc) < len(rows["police", PERSONS]) / 2
    probation = [row["pnc_id"] for row in rows["probation", PERSONS]]
    assert sum(map(bool, probation)) > 0.8 * len(probation)
    for row in rows["education", PERSONS]:
        assert re.fullmatch(r"[A-Z]204\d{9}", row["upn"]) and row["school"]
    assert all(row["tenancy_ref"] for row in rows["housing", PERSONS])
    assert all(re.fullmatch(r"EH-\d{6}", row["record_id"]) for row in rows[CUSTOM, PERSONS])


def test_extract_postcodes_are_well_formed_london_postcodes(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    for (_, kind), table in rows.items():
        for row in table if kind == PERSONS else []:
            if row.get("postcode"):
                assert POSTCODE_PATTERN.match(row["postcode"])
                assert postcode_district(row["postcode"]) in LONDON_DISTRICTS


def test_records_are_mostly_clean_with_realistic_faults(
    rows: dict[tuple[str, str], list[dict[str, Any]]], truth: dict[tuple[str, str], Person]
) -> None:
    faults: Counter[str] = Counter()
    records = 0
    for (agency, kind), table in rows.items():
        if kind != PERSONS:
            continue
        for row in table:
            person = truth[agency, row["record_id"]]
            records += 1
            first = row["forenames"].split(" ")[0]
            faults["forename"] += first != person.forenames.split(" ")[0]
            faults["surname"] += row["surname"] != person.surname
            faults["no date of birth"] += not row.get("date_of_birth")
            faults["old postcode"] += bool(person.previous_postcode) and (
                row.get("postcode") == person.previous_postcode
            )
            faults["mistyped nhs"] += bool(row.get("nhs_number")) and (
                row["nhs_number"] != person.nhs_number
            )
            faults["aliases"] += bool(row.get("aliases"))
    for fault in ("forename", "no date of birth", "old postcode", "mistyped nhs", "aliases"):
        assert 0 < faults[fault] / records < 0.1, fault


def test_mistyped_nhs_numbers_in_extracts_fail_the_check(
    rows: dict[tuple[str, str], list[dict[str, Any]]], truth: dict[tuple[str, str], Person]
) -> None:
    numbers = [
        (row["nhs_number"], truth[agency, row["record_id"]].nhs_number)
        for (agency, kind), table in rows.items()
        if kind == PERSONS
        for row in table
        if row.get("nhs_number")
    ]
    wrong = [given for given, true in numbers if given != true]
    assert wrong
    assert not any(_valid_nhs(number) for number in wrong)
    assert all(_valid_nhs(given) for given, true in numbers if given == true)


def test_aliases_are_semicolon_separated_in_csv_and_lists_in_jsonl(
    rows: dict[tuple[str, str], list[dict[str, Any]]],
) -> None:
    police = [row["aliases"] for row in rows["police", PERSONS] if row["aliases"]]
    health = [row["aliases"] for row in rows["health", PERSONS] if "aliases" in row]
    assert police and all(isinstance(text, str) and " " in text for text in police)
    assert health and all(isinstance(names, list) and names for names in health)
    assert all(" " in name for names in health for name in names)


def test_format_can_be_chosen_per_agency(tmp_path: Path) -> None:
    written = write_extracts(
        "sutton", ["police", "health"], tmp_path, 60, 1, {"police": "jsonl", "health": "csv"}
    )
    suffixes = {(extract.agency, extract.path.suffix) for extract in written}
    assert suffixes == {("police", ".jsonl"), ("health", ".csv")}
    for extract in written:
        assert len(_read(extract.path)) == extract.rows
    assert not (tmp_path / TRUTH_FILE).exists()


@pytest.mark.parametrize(
    ("agencies", "formats", "message"),
    [
        (["Police!"], None, "lower case"),
        (["police", "police"], None, "twice"),
        (["police"], {"police": "xlsx"}, "xlsx"),
        (["police"], {"health": "csv"}, "health"),
    ],
)
def test_bad_requests_are_refused_precisely(
    tmp_path: Path, agencies: list[str], formats: dict[str, str] | None, message: str
) -> None:
    with pytest.raises(ExtractError, match=message):
        write_extracts("hackney", agencies, tmp_path, 5, 1, formats)


def test_unknown_borough_is_refused_for_extracts(tmp_path: Path) -> None:
    with pytest.raises(UnknownBoroughError):
        write_extracts("atlantis", ["police"], tmp_path, 5)


def test_upn_and_pnc_check_characters() -> None:
    # UPN: digits 204 2001 19 001 weighted 2..13 sum to 150; 150 mod 23 = 12, the 13th letter
    # of ABCDEFGHJKLMNPQRTUVWXYZ is N.
    assert upn(204, 2001, 2019, 1) == "N204200119001"
    # PNC: 190123456 mod 23 = 5 (23 x 8266237 = 190123451); letter 5 of ZABCDEFGH... is E.
    assert pnc_id(2019, 123456) == "19/123456E"


# --- bulk rows -----------------------------------------------------------------------------------


def test_iter_person_rows_gives_distinct_valid_people_deterministically() -> None:
    rows = list(iter_person_rows("hackney", 20_000, seed=4, as_of=AS_OF))
    again = list(iter_person_rows("hackney", 20_000, seed=4, as_of=AS_OF))
    assert rows == again
    assert len(rows) == 20_000
    assert len({row["record_id"] for row in rows}) == len(rows)
    numbers = [row["nhs_number"] for row in rows]
    assert len(set(numbers)) == len(numbers)
    assert all(_valid_nhs(number) for number in numbers)
    districts = set(BOROUGHS["hackney"].districts)
    assert all(postcode_district(row["postcode"]) in districts for row in rows)
    assert all(POSTCODE_PATTERN.match(row["postcode"]) for row in rows)
    assert all(_date(row["date_of_birth"]) <= AS_OF for row in rows)


# --- variants ------------------------------------------------------------------------------------

names = st.text(alphabet="abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZéçłö' -", max_size=20)
nine_digits = st.text(alphabet="0123456789", min_size=9, max_size=9).filter(
    lambda digits: nhs_check_digit(digits) is not None
)


@settings(max_examples=200)
@given(name=names, seed=st.integers(0, 2**32))
def test_typo_is_exactly_one_edit_away(name: str, seed: int) -> None:
    result = variants.typo(name, random.Random(seed))
    assert result != name
    assert jellyfish.damerau_levenshtein_distance(result.lower(), name.lower()) == 1


def test_typo_never_touches_punctuation() -> None:
    rng = random.Random(2)
    results = {variants.typo("O'Brien", rng) for _ in range(200)}
    assert all(result.count("'") == 1 for result in results)
    assert len(results) > 50


@settings(max_examples=200)
@given(name=names, seed=st.integers(0, 2**32))
def test_truncate_keeps_a_beginning_of_two_letters_or_more(name: str, seed: int) -> None:
    result = variants.truncate(name, random.Random(seed))
    letters = sum(ch.isalpha() for ch in name)
    if letters <= 2:
        assert result == name
        return
    assert name.startswith(result)
    assert 2 <= sum(ch.isalpha() for ch in result) < letters
    assert result[-1].isalpha()


def test_truncate_cuts_as_the_records_show() -> None:
    rng = random.Random(5)
    assert {variants.truncate("Ned", rng) for _ in range(20)} == {"Ne"}
    assert {variants.truncate("Katarzyna", rng) for _ in range(400)} == {
        "Katarzyn"[:n] for n in range(2, 9)
    }


@pytest.mark.parametrize("forename", ["William", "Robert", "Elizabeth", "Mohammed", "KATHERINE"])
def test_nickname_is_another_form_of_the_same_name(forename: str) -> None:
    rng = random.Random(forename)
    for _ in range(20):
        result = variants.nickname(f"{forename} James", rng)
        first, rest = result.split(" ", 1)
        assert rest == "James"
        assert first.casefold() != forename.casefold()
        assert set(canonical_forenames(first)) & set(canonical_forenames(forename))
        assert first.isupper() == forename.isupper()


def test_nickname_leaves_a_name_without_one_unchanged() -> None:
    assert variants.nicknames_of("Zelal") == ()
    assert variants.nickname("Zelal", random.Random(1)) == "Zelal"
    assert "bill" in variants.nicknames_of("William")


def test_swap_names_exchanges_the_fields() -> None:
    assert variants.swap_names("Mary Jane", "Smith") == ("Smith", "Mary Jane")


@given(date=st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)))
def test_transpose_day_month(date: dt.date) -> None:
    if date.day > 12:
        with pytest.raises(variants.DateNotTransposableError, match=str(date.day)):
            variants.transpose_day_month(date)
        assert not variants.can_transpose_day_month(date)
        return
    swapped = variants.transpose_day_month(date)
    assert (swapped.year, swapped.month, swapped.day) == (date.year, date.day, date.month)
    assert variants.transpose_day_month(swapped) == date
    assert variants.can_transpose_day_month(date) == (swapped != date)


@settings(max_examples=200)
@given(date=st.dates(dt.date(1900, 1, 1), AS_OF), seed=st.integers(0, 2**32))
def test_wrong_date_digit_changes_one_digit_and_stays_a_real_date_in_range(
    date: dt.date, seed: int
) -> None:
    wrong = variants.wrong_date_digit(date, random.Random(seed), dt.date(1900, 1, 1), AS_OF)
    assert dt.date(1900, 1, 1) <= wrong <= AS_OF
    written, right = f"{wrong:%d%m%Y}", f"{date:%d%m%Y}"
    assert sum(a != b for a, b in zip(written, right, strict=True)) == 1


def test_wrong_date_digit_reaches_every_part_of_the_date() -> None:
    rng = random.Random(4)
    date = dt.date(2012, 3, 7)
    wrongs = {variants.wrong_date_digit(date, rng, dt.date(1900, 1, 1), AS_OF) for _ in range(300)}
    assert {
        dt.date(2012, 3, 17),
        dt.date(2012, 8, 7),
        dt.date(2013, 3, 7),
        dt.date(2002, 3, 7),
    } <= wrongs
    assert {w.day for w in wrongs} > {7} and {w.month for w in wrongs} > {3}
    assert {w.year for w in wrongs} > {2012}
    with pytest.raises(ValueError, match="no date"):
        variants.wrong_date_digit(date, rng, date, date)


@settings(max_examples=200)
@given(seed=st.integers(0, 2**32))
def test_swap_adjacent_characters_swaps_two_neighbours(seed: int) -> None:
    result = variants.swap_adjacent_characters("E8 1AB", random.Random(seed))
    assert result != "E8 1AB"
    assert sorted(result) == sorted("E8 1AB")
    assert result.index(" ") == 2
    changed = [i for i, (a, b) in enumerate(zip(result, "E8 1AB", strict=True)) if a != b]
    assert len(changed) == 2
    assert variants.swap_adjacent_characters("AA  A", random.Random(seed)) == "AA  A"


@settings(max_examples=200)
@given(first_nine=nine_digits, seed=st.integers(0, 2**32))
def test_mistype_nhs_fails_the_check_and_is_one_slip_away(first_nine: str, seed: int) -> None:
    valid = first_nine + str(nhs_check_digit(first_nine))
    result = variants.mistype_nhs(f"{valid[:3]} {valid[3:6]} {valid[6:]}", random.Random(seed))
    assert len(result) == 10 and result.isdigit()
    assert not _valid_nhs(result)
    assert not variants.is_valid_nhs(result)
    changed = [i for i in range(10) if result[i] != valid[i]]
    transposed = len(changed) == 2 and changed[1] == changed[0] + 1
    assert len(changed) == 1 or (transposed and sorted(result) == sorted(valid))


def test_mistype_nhs_refuses_text_that_is_not_ten_digits() -> None:
    with pytest.raises(variants.NhsFormatError, match="ten digits"):
        variants.mistype_nhs("12345", random.Random(1))


@settings(max_examples=200)
@given(text=names, seed=st.integers(0, 2**32))
def test_case_and_format_changes_only_case_spacing_and_marks(text: str, seed: int) -> None:
    result = variants.case_and_format(text, random.Random(seed))
    assert result != text
    assert normalise_name(result) == normalise_name(text)


def test_case_and_format_produces_each_kind_of_change() -> None:
    rng = random.Random(8)
    results = {variants.case_and_format("Gonçalves-Smith", rng) for _ in range(200)}
    assert {"GONÇALVES-SMITH", "gonçalves-smith", "Gonçalves Smith", "Goncalves-Smith"} <= results
    assert any(result != result.strip() or "  " in result for result in results)


@given(date=st.dates(dt.date(1900, 1, 1), dt.date(2030, 12, 31)), seed=st.integers(0, 2**32))
def test_date_format_round_trips(date: dt.date, seed: int) -> None:
    text = variants.date_format(date, random.Random(seed))
    assert parse_date(text) == date
    assert _ISO.match(variants.date_format(date, random.Random(seed), uk_share=0.0))
    assert _UK.match(variants.date_format(date, random.Random(seed), uk_share=1.0))


def test_format_date_refuses_an_unknown_style() -> None:
    with pytest.raises(ValueError, match="'us'"):
        variants.format_date(AS_OF, "us")
