"""Tests of the match-key set: one person written differently meets, different people never do."""

from __future__ import annotations

import datetime as dt
import hashlib
import itertools

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.matching.key_classes import CLASSES, KEY_CLASSES, Strength, describe, label, strongest
from node.matching.keys import (
    CLASS_LETTERS,
    CLASS_NAMES,
    KEY_SET_VERSION,
    MAX_KEYS,
    STRENGTHS,
    Identity,
    MatchKey,
    NameForm,
    derive_keys,
    derive_packed_keys,
    key_values,
    name_forms,
    query_name_form,
    split_alias,
)
from node.matching.nhs import nhs_check_digit, nhs_corrections, normalise_nhs_number
from node.matching.normalise import DateError

NHS_A = "9434765919"  # valid check digit
NHS_B = "4010232137"  # valid check digit
DOB = dt.date(2012, 3, 7)


def person(**changes: object) -> Identity:
    fields: dict[str, object] = {
        "forenames": "Robert James",
        "surname": "Smith-Jones",
        "date_of_birth": "07/03/2012",
        "postcode": "E8 1AB",
        "nhs_number": "",
        "aliases": (),
    }
    fields.update(changes)
    return Identity.from_fields(**fields)  # type: ignore[arg-type]


def shared(a: Identity, b: Identity) -> dict[str, Strength]:
    """The classes of the keys two identities share."""
    values_b = {key.value for key in derive_keys(b)}
    return {key.key_class: key.strength for key in derive_keys(a) if key.value in values_b}


# --- the same person written differently ------------------------------------------------------


@pytest.mark.parametrize(
    ("changes", "expected_class"),
    [
        (
            {"forenames": "ROBERT", "surname": "smith jones", "postcode": "e81ab"},
            "name_dob_postcode",
        ),
        ({"forenames": "Mr Róbert", "surname": "SMITH–JONES"}, "name_dob_postcode"),
        ({"forenames": "Bob", "date_of_birth": "2012-03-07"}, "name_dob_postcode"),
        ({"forenames": "Smith-Jones", "surname": "Robert"}, "name_dob_postcode"),
        ({"forenames": "Smith-Jones", "surname": "Bob"}, "name_dob_postcode"),
        ({"date_of_birth": "03/07/2012", "postcode": "N16 7AB"}, "name_dob"),
        ({"postcode": "N16 7AB"}, "name_dob"),
        ({"postcode": ""}, "name_dob"),
        ({"surname": "Jones", "postcode": "N16 7AB"}, "name_dob"),
        ({"forenames": "Robret", "postcode": "N16 7AB"}, "prefix3_dob"),
        ({"forenames": "Smi", "surname": "Roberts", "postcode": ""}, "prefix3_dob"),
        ({"surname": "Smyth-Jones", "postcode": "N16 7AB"}, "forename_surname_end_dob"),
        ({"forenames": "Zobert", "postcode": "N16 7AB"}, "forename_end_surname_dob"),
        ({"surname": "Simpson"}, "short_name_bday_postcode"),
        ({"date_of_birth": "07/03/2011"}, "short_name_bday_postcode"),
        ({"surname": "Simpson", "date_of_birth": "07/03/2011"}, "short_name_bday_postcode"),
        ({"forenames": "Ro"}, "prefix2_dob_postcode"),
        ({"surname": "SMITH-JOENS"}, "prefix2_dob_postcode"),
        ({"date_of_birth": "17/03/2012"}, "name_year_postcode"),
        ({"date_of_birth": "07/08/2012"}, "name_year_postcode"),
    ],
)
def test_same_person_written_differently_shares_a_key(
    changes: dict[str, object], expected_class: str
) -> None:
    classes = shared(person(), person(**changes))
    assert expected_class in classes
    assert classes[expected_class] == STRENGTHS[expected_class]


def test_case_accents_and_punctuation_give_identical_keys() -> None:
    plain = person(forenames="Zoe", surname="O'Brien")
    styled = person(forenames="  ZOË ", surname="o’brien", postcode=" e8  1ab")
    assert [k.value for k in derive_keys(plain)] == [k.value for k in derive_keys(styled)]


def test_swapped_forename_and_surname_give_identical_name_keys() -> None:
    a = derive_keys(person(forenames="Amara", surname="Okafor"))
    b = derive_keys(person(forenames="Okafor", surname="Amara"))
    name_classes = {
        "name_dob_postcode",
        "name_dob",
        "prefix3_dob",
        "prefix2_dob_postcode",
        "name_year_postcode",
    }
    assert {k.value for k in a if k.key_class in name_classes} == {
        k.value for k in b if k.key_class in name_classes
    }


def test_nhs_number_links_whatever_the_names() -> None:
    a = person(nhs_number="943 476 5919")
    b = person(forenames="Bobby", surname="Jones", postcode="", nhs_number="943-476-5919")
    assert shared(a, b)["nhs_dob"] is Strength.CERTAIN
    c = person(forenames="Bobby", surname="Brown", date_of_birth="", nhs_number=NHS_A)
    assert shared(a, c) == {"nhs": Strength.STRONG}


def test_alias_yields_its_own_name_keys() -> None:
    known = person(forenames="Jane", surname="Smith", aliases=("Jane Jones", "DOE, Janet"))
    assert "name_dob_postcode" in shared(known, person(forenames="Jane", surname="Jones"))
    assert "name_dob_postcode" in shared(known, person(forenames="Janet", surname="Doe"))
    assert not shared(
        person(forenames="Jane", surname="Smith"), person(forenames="Janet", surname="Doe")
    )


def test_one_word_alias_is_a_forename_known_by() -> None:
    known = person(forenames="Oluwaseun", surname="Adeyemi", aliases=("Shaun",))
    assert "name_dob" in shared(known, person(forenames="Shaun", surname="Adeyemi"))
    assert split_alias("Shaun", "Adeyemi") == ("Shaun", "Adeyemi")
    assert split_alias("ADEYEMI, Oluwaseun Grace", "x") == ("Oluwaseun Grace", "ADEYEMI")
    assert split_alias("Mary Ann Smith-Jones", "x") == ("Mary Ann", "Smith-Jones")


def test_muhammad_spellings_and_the_given_name_meet() -> None:
    full = person(forenames="Mohammed Imran", surname="Khan")
    assert "name_dob_postcode" in shared(full, person(forenames="Muhammad Imran", surname="Khan"))
    assert "name_dob_postcode" in shared(full, person(forenames="Imran", surname="Khan"))


def test_sam_meets_samuel_and_samantha_but_they_meet_only_by_their_beginnings() -> None:
    sam, samuel, samantha = (person(forenames=n) for n in ("Sam", "Samuel", "Samantha"))
    assert "name_dob_postcode" in shared(sam, samuel)
    assert "name_dob_postcode" in shared(sam, samantha)
    assert set(shared(samuel, samantha).values()) == {Strength.PROBABLE}


# --- different people --------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("first", "second"),
    [
        ("Oliver", "Harry"),
        ("Amara", "Chidinma"),
        ("Mohammed Ali", "Mohammed Imran"),
        ("Jack", "James"),  # Jack is read as John
    ],
)
def test_twins_share_no_key(first: str, second: str) -> None:
    twin_a = person(forenames=first, surname="Okafor", nhs_number=NHS_A)
    twin_b = person(forenames=second, surname="Okafor", nhs_number=NHS_B)
    assert shared(twin_a, twin_b) == {}


@pytest.mark.parametrize(
    ("first", "second", "classes"),
    [
        ("Min-jun", "Min-seo", {"prefix3_dob", "prefix2_dob_postcode"}),
        ("Jayden", "Hayden", {"forename_end_surname_dob"}),
        ("Samuel", "Samantha", {"prefix3_dob", "prefix2_dob_postcode"}),
        ("Jacob", "James", {"prefix2_dob_postcode"}),
    ],
)
def test_twins_with_names_alike_share_only_probable_keys(
    first: str, second: str, classes: set[str]
) -> None:
    twin_a = person(forenames=first, surname="Okafor", nhs_number=NHS_A)
    twin_b = person(forenames=second, surname="Okafor", nhs_number=NHS_B)
    assert shared(twin_a, twin_b) == dict.fromkeys(classes, Strength.PROBABLE)


def test_twins_recorded_with_names_swapped_share_no_key() -> None:
    twin_a = person(forenames="Mazur", surname="Jonas")
    twin_b = person(forenames="Mazur", surname="Aleksandra")
    assert shared(twin_a, twin_b) == {}
    thomas = person(forenames="Thomas", surname="Thomas")
    olivia_swapped = person(forenames="Thomas", surname="Olivia")
    assert shared(thomas, olivia_swapped) == {}


def test_son_named_after_his_father_shares_no_key() -> None:
    father = person(forenames="Richard", surname="Jones", date_of_birth="10/09/1980")
    son = person(forenames="Richard", surname="Jones", date_of_birth="29/10/2012")
    assert shared(father, son) == {}


def test_siblings_share_no_key() -> None:
    a = person(forenames="Mohammed Ali", surname="Khan", date_of_birth="01/02/2010")
    b = person(forenames="Mohammed Imran", surname="Khan", date_of_birth="05/06/2012")
    assert shared(a, b) == {}


# --- key material, values and missing fields ---------------------------------------------------


def test_key_material_is_versioned_and_the_value_is_its_personalised_digest() -> None:
    keys = derive_keys(person(surname="Smith", nhs_number=NHS_A, aliases=("Bobby Jones",)))
    assert KEY_SET_VERSION == 3
    assert keys
    for key in keys:
        assert key.material.startswith(f"v3|{key.key_class}|".encode())
        expected = hashlib.blake2b(key.material, digest_size=16, person=b"mash-mk-v3").digest()
        assert key.value == expected
        assert len(key.value) == 16
        assert key.strength is CLASSES[key.key_class].strength
    materials = {k.material for k in keys}
    assert b"v3|nhs_dob|9434765919|2012-03-07" in materials
    assert b"v3|name_dob|robert|smith|2012|03|07" in materials
    assert b"v3|prefix3_dob|rob|smi|2012-03-07" in materials
    assert b"v3|name_year_postcode|jones|robert|2012|E8 1AB" not in materials  # past the limit
    assert len({k.value for k in keys}) == len(keys) == MAX_KEYS


def test_material_is_never_in_repr() -> None:
    for key in derive_keys(person(nhs_number=NHS_A)):
        assert "material" not in repr(key)
        assert "9434765919" not in repr(key)
        assert "robert" not in repr(key).lower()


def test_fast_built_keys_equal_keys_built_the_ordinary_way() -> None:
    for key in derive_keys(person(nhs_number=NHS_A)):
        rebuilt = MatchKey(key.key_class, key.strength, key.value, key.material)
        assert key == rebuilt
        assert hash(key) == hash(rebuilt)


@pytest.mark.parametrize(
    "identity",
    [
        person(nhs_number=NHS_A),
        person(aliases=("Bobby Jones", "Rob")),
        person(nhs_number=NHS_A[:9] + str((int(NHS_A[9]) + 1) % 10), postcode=None),
        person(date_of_birth=None),
    ],
)
def test_packed_keys_are_the_keys_values_and_class_letters_in_order(identity: Identity) -> None:
    keys = derive_keys(identity)
    values, letters = derive_packed_keys(identity)
    assert key_values(values) == [key.value for key in keys]
    assert [CLASS_NAMES[letter] for letter in letters] == [key.key_class for key in keys]


def classes_of(identity: Identity) -> set[str]:
    return {key.key_class for key in derive_keys(identity)}


def test_every_class_is_produced_from_a_full_record_in_order() -> None:
    keys = derive_keys(person(surname="Smith", nhs_number=NHS_A))
    assert [key.key_class for key in keys] == [key_class.name for key_class in KEY_CLASSES]


def test_missing_fields_drop_the_keys_that_need_them() -> None:
    full = classes_of(person(surname="Smith", nhs_number=NHS_A))
    nhs_classes = {"nhs", "nhs_dob", "nhs_near_surname"}
    postcode_classes = {
        "name_dob_postcode",
        "short_name_bday_postcode",
        "prefix2_dob_postcode",
        "name_year_postcode",
    }
    assert classes_of(person(surname="Smith")) == full - nhs_classes
    assert classes_of(person(nhs_number=NHS_A, date_of_birth="")) == {"nhs", "nhs_near_surname"}
    assert classes_of(person(surname="Smith", nhs_number=NHS_A, postcode="")) == (
        full - postcode_classes
    )
    assert classes_of(person(nhs_number=NHS_A, forenames="")) == nhs_classes
    assert classes_of(person(nhs_number=NHS_A, forenames="Baby")) == nhs_classes
    assert classes_of(person(surname="", nhs_number=NHS_A)) == {"nhs", "nhs_dob"}
    mistyped = person(surname="Smith", nhs_number="943 476 5918")
    assert classes_of(mistyped) == (full - nhs_classes) | {"nhs_near_surname"}
    assert derive_keys(person(forenames="", surname="", date_of_birth="", postcode="")) == []


def test_no_record_has_more_than_max_keys_and_the_first_classes_are_kept() -> None:
    crowded = person(
        forenames="Sam",  # Samuel or Samantha: two readings
        surname="García López",
        nhs_number="943 476 5918",  # mistyped: about ten corrections
        aliases=("Sam Brown", "Sammy Green"),
    )
    keys = derive_keys(crowded)
    assert len(keys) == MAX_KEYS
    order = [key_class.name for key_class in KEY_CLASSES]
    positions = [order.index(key.key_class) for key in keys]
    assert positions == sorted(positions)
    assert keys[0].key_class == "name_dob_postcode"
    values, letters = derive_packed_keys(crowded)
    assert len(letters) == MAX_KEYS and len(values) == 16 * MAX_KEYS


def test_invalid_postcode_and_nhs_number_are_not_used() -> None:
    identity = person(postcode="not a postcode", nhs_number="943 476 5918")
    assert identity.postcode is None
    assert identity.nhs_number is None
    assert identity.mistyped_nhs_number == "9434765918"
    identity = person(nhs_number="12345")
    assert identity.nhs_number is None
    assert identity.mistyped_nhs_number is None
    assert person(nhs_number=NHS_A).mistyped_nhs_number is None


def test_from_fields_takes_dates_and_rejects_unreadable_ones() -> None:
    assert person(date_of_birth=DOB).date_of_birth == DOB
    assert person(date_of_birth=dt.datetime(2012, 3, 7, 10, 30)).date_of_birth == DOB
    assert person(date_of_birth=None).date_of_birth is None
    with pytest.raises(DateError):
        person(date_of_birth="31/02/2012")


words = st.text(alphabet="abcdefghijklmnopqrstuvwxyz", min_size=2, max_size=10)


@settings(max_examples=60, deadline=None)
@given(
    words, words, st.sampled_from([str.upper, str.lower, str.title]), st.sampled_from([" ", "  "])
)
def test_keys_ignore_how_names_are_typed(
    forename: str, surname: str, style: object, space: str
) -> None:
    plain = person(forenames=forename, surname=surname)
    typed = person(forenames=f"{space}{style(forename)}", surname=f"{style(surname)}{space}")  # type: ignore[operator]
    assert [k.value for k in derive_keys(plain)] == [k.value for k in derive_keys(typed)]


# --- strengths and name forms ------------------------------------------------------------------


@given(words, words)
def test_a_plain_name_is_prepared_as_the_general_case_prepares_it(
    forename: str, surname: str
) -> None:
    from node.matching.keys import _prepare_general, _prepare_normalised

    readings, family = (forename,), surname
    assert _prepare_normalised(readings, family, ()) == _prepare_general(readings, family, ())


def test_key_class_names_fit_the_candidates_column_and_have_one_letter_each() -> None:
    assert all(0 < len(name) <= 24 for name in CLASSES)  # match_candidates.key_class
    assert {CLASS_NAMES[CLASS_LETTERS[name]] for name in CLASSES} == set(CLASSES)
    assert all(len(letter) == 1 for letter in CLASS_LETTERS.values())


def test_strengths_are_ranked() -> None:
    assert Strength.CERTAIN.rank > Strength.STRONG.rank > Strength.PROBABLE.rank
    assert strongest([Strength.PROBABLE, Strength.CERTAIN, Strength.STRONG]) is Strength.CERTAIN
    assert strongest([Strength.PROBABLE]) is Strength.PROBABLE
    assert strongest([]) is None
    assert set(STRENGTHS.values()) == set(Strength)


def test_name_forms_one_per_name_and_alias() -> None:
    forms = name_forms(person(forenames="Bob", surname="Smith-Jones", aliases=("Robert Jones",)))
    assert forms == [
        NameForm("robert", "smithjones", "R163", "S532", is_alias=False),
        NameForm("robert", "jones", "R163", "J520", is_alias=True),
    ]


def test_query_name_form_matches_stored_forms() -> None:
    stored = name_forms(person(forenames="Mohamed", surname="Hussain"))[0]
    query = query_name_form("muhammad", "HUSSEIN")
    assert query.forename_norm == stored.forename_norm
    assert query.surname_phonetic == stored.surname_phonetic
    assert query.is_alias is False
    assert query_name_form("", "Smith").forename_phonetic == ""


# --- nhs_near_surname: a mistyped NHS number ----------------------------------------------------


def slips(number: str) -> list[str]:
    """Every one-digit change and adjacent swap of a number that fails the check digit."""
    wrong = [number[:i] + d + number[i + 1 :] for i in range(10) for d in "0123456789"]
    wrong += [number[:i] + number[i + 1] + number[i] + number[i + 2 :] for i in range(9)]
    return [w for w in wrong if w != number and normalise_nhs_number(w) is None]


def near(a: Identity, b: Identity) -> bool:
    return shared(a, b).get("nhs_near_surname") is Strength.PROBABLE


@settings(max_examples=40, deadline=None)
@given(st.integers(min_value=0, max_value=len(slips(NHS_A)) - 1))
def test_a_mistyped_nhs_number_meets_the_right_one_with_nothing_else_in_common(i: int) -> None:
    right = person(surname="Smith", nhs_number=NHS_A)
    wrong = slips(NHS_A)[i]
    # no forename, no date of birth, a moved postcode: no other key survives this
    written = person(
        forenames="", surname="Smith", date_of_birth="", postcode="N16 7AB", nhs_number=wrong
    )
    assert shared(right, written) == {"nhs_near_surname": Strength.PROBABLE}


def test_a_mistyped_record_keeps_its_likeliest_corrections_within_max_keys() -> None:
    wrong = NHS_A[:3] + NHS_A[4] + NHS_A[3] + NHS_A[5:]  # two digits swapped
    crowded = person(forenames="Robret", surname="Smith-Jones", nhs_number=wrong)
    keys = derive_keys(crowded)
    assert len(keys) == MAX_KEYS
    near_keys = [key for key in keys if key.key_class == "nhs_near_surname"]
    assert near_keys  # after every name key, as many corrections as fit: the swap's first
    assert near_keys[0].material == f"v3|nhs_near_surname|{NHS_A}|S532".encode()


def test_two_records_mistyped_differently_meet_through_the_right_number() -> None:
    one, other = slips(NHS_A)[3], slips(NHS_A)[-3]
    assert one != other
    assert near(
        person(surname="Smith", nhs_number=one, date_of_birth=""),
        person(surname="Smith", nhs_number=other, date_of_birth=""),
    )


def test_a_mistyped_record_with_names_swapped_meets_when_its_slip_was_a_swap() -> None:
    # The forename's sound comes after the surname's: within MAX_KEYS it reaches the first
    # corrections only, which are the swaps of two digits.
    right = person(forenames="Amara", surname="Okafor", nhs_number=NHS_A)
    wrong = NHS_A[:3] + NHS_A[4] + NHS_A[3] + NHS_A[5:]
    assert normalise_nhs_number(wrong) is None
    swapped = person(forenames="Okafor", surname="Amara", date_of_birth="", nhs_number=wrong)
    assert near(right, swapped)
    assert near(swapped, right)
    # and a right number on a swapped record meets an unswapped mistyped one
    assert near(
        person(forenames="Okafor", surname="Amara", nhs_number=NHS_A),
        person(forenames="Amara", surname="Okafor", date_of_birth="", nhs_number=wrong),
    )


def test_a_mistyped_record_under_a_previous_surname_meets_through_its_alias() -> None:
    right = person(forenames="Jane", surname="Smith", nhs_number=NHS_A)
    wrong = NHS_A[:3] + NHS_A[4] + NHS_A[3] + NHS_A[5:]  # a swap: given with every surname
    before = person(
        forenames="Jane",
        surname="Brown",
        aliases=("Jane Smith",),
        nhs_number=wrong,
        date_of_birth="",
    )
    assert near(right, person(forenames="Jane", surname="Brown", nhs_number=wrong)) is False
    assert near(right, before)


def test_a_mistyped_record_under_half_a_double_barrelled_surname_meets() -> None:
    right = person(surname="Smith-Jones", nhs_number=NHS_A)
    half = person(surname="Jones", date_of_birth="", nhs_number=slips(NHS_A)[5])
    assert shared(right, half) == {"nhs_near_surname": Strength.PROBABLE}


def test_the_holder_of_a_correction_with_another_surname_is_not_met() -> None:
    wrong = slips(NHS_A)[0]
    for correction in nhs_corrections(wrong):
        holder = person(forenames="Chidi", surname="Eze", nhs_number=correction)
        assert not shared(person(nhs_number=wrong), holder)


def test_twins_with_consecutive_numbers_share_no_key_unless_one_is_mistyped() -> None:
    first = "452000006"
    twin_a_number = first + str(nhs_check_digit(first))
    twin_b_number = next(
        f"{n}{nhs_check_digit(str(n))}"
        for n in itertools.count(int(first) + 1)
        if nhs_check_digit(str(n)) is not None
    )
    twin_a = person(forenames="Jack", surname="Okafor", nhs_number=twin_a_number)
    twin_b = person(forenames="James", surname="Okafor", nhs_number=twin_b_number)
    assert shared(twin_a, twin_b) == {}
    # A's number with B's check digit is one slip from each: such a record of A meets B too,
    # which is why the class is PROBABLE and a professional decides.
    assert twin_a_number[:8] == twin_b_number[:8]
    slip = twin_a_number[:9] + twin_b_number[9]
    assert {twin_a_number, twin_b_number} <= set(nhs_corrections(slip))
    mistyped_a = person(forenames="Jack", surname="Okafor", nhs_number=slip)
    assert near(mistyped_a, twin_a)
    assert near(mistyped_a, twin_b)
    assert STRENGTHS["nhs_near_surname"] is Strength.PROBABLE


# --- short_name_bday_postcode ------------------------------------------------------------------


def test_a_changed_surname_and_a_wrong_year_together_still_meet() -> None:
    married = person(forenames="Jane", surname="Smith")
    before = person(forenames="Jane", surname="Simpson", date_of_birth="07/03/2002")
    assert shared(married, before) == {"short_name_bday_postcode": Strength.PROBABLE}


def test_a_namesake_son_born_on_another_day_and_twins_at_one_address_do_not_share_it() -> None:
    father = person(forenames="Richard", surname="Jones", date_of_birth="10/09/1980")
    son = person(forenames="Richard", surname="Jones", date_of_birth="11/09/2012")
    assert shared(father, son) == {}
    jack = person(forenames="Jack", surname="Jones")
    james = person(forenames="James", surname="Jones")
    assert shared(jack, james) == {}


@pytest.mark.parametrize("placeholder", ["0000000000", "999 999 9999", "1234567890"])
def test_people_carrying_a_placeholder_nhs_number_share_no_key(placeholder: str) -> None:
    a = person(forenames="Jack", surname="Smith", nhs_number=placeholder)
    b = person(forenames="Oliver", surname="Smith", nhs_number=placeholder)
    assert a.nhs_number is None
    assert a.mistyped_nhs_number is None
    assert shared(a, b) == {}


# --- key classes, described once ---------------------------------------------------------------


def test_each_class_is_described_once_with_a_label_and_a_meaning() -> None:
    assert [key_class.name for key_class in KEY_CLASSES] == list(CLASSES)
    assert len({key_class.label for key_class in KEY_CLASSES}) == len(KEY_CLASSES)
    for key_class in KEY_CLASSES:
        assert key_class.label and key_class.meaning.endswith(".")
        assert label(key_class.name) == key_class.label
        assert describe(key_class.name) is key_class
    assert label("nhs_dob") == "NHS number and date of birth"


def test_classes_of_older_key_sets_are_still_described_for_their_candidates() -> None:
    for older in (
        "phonetic_dob",
        "name_dob_swapped",
        "short_name_dob_postcode",
        "certain-conflict",
    ):
        described = describe(older)
        assert described is not None and described.name not in CLASSES
        assert label(older) == described.label
    assert label("phonetic_dob") == "Names that sound alike, and date of birth"
    assert describe("no_such_class") is None
    assert label("no_such_class") == "no_such_class"


@settings(max_examples=300, deadline=None)
@given(
    st.sampled_from(["", "Baby", "Sam", "Mohammed Ali"]) | words,
    st.sampled_from(["", "Smith-Jones", "de la Cruz", "García y López"]) | words,
    st.none() | st.dates(dt.date(1900, 1, 1), dt.date(2026, 1, 1)),
    st.sampled_from(["E8 1AB", "", "N16 7AB"]),
    st.sampled_from(["", NHS_A, NHS_B]),
)
def test_the_common_record_is_keyed_as_the_general_case_keys_it(
    forename: str, surname: str, born: dt.date | None, postcode: str, nhs: str
) -> None:
    from node.matching.keys import _general_materials, _materials, _prepare, _simple_materials

    identity = person(
        forenames=forename, surname=surname, date_of_birth=born, postcode=postcode, nhs_number=nhs
    )
    name = _prepare(identity.forenames, identity.surname)
    assert _materials(identity) == _general_materials(identity, name)
    if name.simple:
        assert _simple_materials(identity, name) == _general_materials(identity, name)
