"""Tests of the identity normalisers: names, nicknames, dates, postcodes and NHS numbers."""

from __future__ import annotations

import datetime as dt
import string
import unicodedata
from collections.abc import Callable

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from node.matching.nhs import (
    PLACEHOLDERS,
    NhsNumberError,
    mistyped_nhs_number,
    nhs_check_digit,
    nhs_corrections,
    normalise_nhs_number,
)
from node.matching.nicknames import NicknameTableError, canonical_forms, parse_table, table
from node.matching.normalise import (
    DateError,
    canonical_forename,
    canonical_forenames,
    first_forename,
    forename_tokens,
    normalise_name,
    normalise_postcode,
    parse_date,
    phonetic,
    surname_key,
    surname_parts,
)

FAST = settings(max_examples=150, deadline=None)

# --- names -------------------------------------------------------------------------------------

ACCENTED = "éèêëáàâäãåçíìîïñóòôöõúùûüýÿ"
name_words = st.text(alphabet=string.ascii_letters + ACCENTED, min_size=1, max_size=12)
names = st.lists(name_words, min_size=1, max_size=4).map(" ".join)


def strip_accents(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


@FAST
@given(st.text(max_size=40))
def test_normalise_name_is_idempotent_on_any_text(text: str) -> None:
    once = normalise_name(text)
    assert normalise_name(once) == once


@FAST
@given(names)
def test_normalise_name_ignores_case(name: str) -> None:
    assert normalise_name(name.upper()) == normalise_name(name.lower()) == normalise_name(name)


@FAST
@given(names)
def test_normalise_name_ignores_accents(name: str) -> None:
    assert normalise_name(name) == normalise_name(strip_accents(name))


@FAST
@given(st.lists(name_words, min_size=2, max_size=4), st.sampled_from(["-", " - ", ".", ", ", "  "]))
def test_punctuation_between_words_is_a_space(words: list[str], separator: str) -> None:
    assert normalise_name(separator.join(words)) == normalise_name(" ".join(words))


@FAST
@given(name_words, name_words, st.sampled_from(["'", "’", "‘", "`"]))
def test_apostrophes_vanish(before: str, after: str, apostrophe: str) -> None:
    assert normalise_name(f"{before}{apostrophe}{after}") == normalise_name(before + after)


def test_normalise_name_examples() -> None:
    assert normalise_name("O'Brien") == "obrien"
    assert normalise_name("  MARY-JANE   o’neill ") == "mary jane oneill"
    assert normalise_name("Zoë Ørsted-Łukasz") == "zoe orsted lukasz"
    assert normalise_name("Straße") == "strasse"
    assert normalise_name("") == ""


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ("Mr John Smith", "john smith"),
        ("DR. Amina Yusuf", "amina yusuf"),
        ("Mrs Miss Jones", "jones"),
        ("Rev Prof Ali", "ali"),
        ("Lord", "lord"),  # a surname, not a title: nothing would be left
        ("Mr Lord", "lord"),
        ("Master Jack", "jack"),
        ("John Smith Jnr", "john smith"),
        ("Jones Sr.", "jones"),
        ("Smith Lord", "smith lord"),  # only a leading title is dropped
    ],
)
def test_honorifics_and_suffixes(text: str, expected: str) -> None:
    assert normalise_name(text) == expected


def test_forename_tokens_join_hyphenated_names_and_drop_placeholders() -> None:
    assert forename_tokens("Jean-Paul Marie") == ["jeanpaul", "marie"]
    assert forename_tokens("Min-jun") != forename_tokens("Min-seo")
    assert forename_tokens("Baby") == []
    assert forename_tokens("Unborn baby") == []
    assert forename_tokens("N/A") == forename_tokens("not known") == []
    assert first_forename("Mr Oliver James") == "oliver"
    assert first_forename("") == ""


@pytest.mark.parametrize(
    ("nickname", "given"),
    [
        ("Bob", "robert"),
        ("ROBBIE", "robert"),
        ("Liz", "elizabeth"),
        ("Betty", "elizabeth"),
        ("Eliza", "elizabeth"),
        ("Bill", "william"),
        ("Billy", "william"),
        ("Jack", "john"),
        ("Johnny", "john"),
        ("Katie", "catherine"),
        ("Kathryn", "catherine"),
        ("Mohamed", "muhammad"),
        ("Mohammad", "muhammad"),
        ("MUHAMMED", "muhammad"),
        ("Md", "muhammad"),
        ("Kasia", "katarzyna"),
        ("Seun", "oluwaseun"),
        ("Liam", "liam"),  # a name in its own right: deliberately not William
        ("Ali", "ali"),
        ("Zebedee", "zebedee"),  # not in the table: itself
    ],
)
def test_canonical_forename(nickname: str, given: str) -> None:
    assert canonical_forename(nickname) == given
    assert canonical_forename(f"{nickname} Middle") == given


def test_ambiguous_nicknames_keep_both_readings() -> None:
    assert canonical_forenames("Sam") == ("samuel", "samantha")
    assert canonical_forenames("Alex") == ("alexander", "alexandra")
    assert canonical_forenames("Samuel") == ("samuel",)
    assert canonical_forenames("Samantha") == ("samantha",)


def test_devotional_prefix_keeps_the_given_name() -> None:
    assert canonical_forenames("Mohammed Imran") == ("muhammadimran", "imran")
    assert canonical_forenames("Muhammad Imran") == canonical_forenames("Mohamed Imran")
    assert not set(canonical_forenames("Mohammed Ali")) & set(canonical_forenames("Mohammed Imran"))
    assert canonical_forenames("Abdul Rahman")[0] == canonical_forenames("Abdel Rahman")[0]
    assert canonical_forenames("Mohammed") == ("muhammad",)


def test_nickname_table_is_consistent_and_large() -> None:
    pairs = [
        (variant, c) for variant, readings in table().items() for c in readings if variant != c
    ]
    assert len(pairs) >= 300
    for variant, readings in table().items():
        assert 1 <= len(readings) <= 2
        for canonical in readings:
            assert canonical_forms(canonical) == (canonical,), variant


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("robert bob\n", "expected 'canonical: variant"),
        ("robert:\n", "expected 'canonical: variant"),
        ("robert: Bob\n", "not a normalised one-word name: Bob"),
        ("a: x\nb: x\nc: x\n", "x is listed in three groups"),
        ("robert: bob\nbob: bobby\n", "bob is a canonical name and another group's variant"),
    ],
)
def test_parse_table_rejects_bad_lines(text: str, message: str) -> None:
    with pytest.raises(NicknameTableError, match=message):
        parse_table(text)


def test_parse_table_reads_groups_and_comments() -> None:
    parsed = parse_table("# comment\nrobert: bob rob  # trailing\n\nsamuel: sam\nsamantha: sam\n")
    assert parsed["bob"] == ("robert",)
    assert parsed["robert"] == ("robert",)
    assert parsed["sam"] == ("samuel", "samantha")


@pytest.mark.parametrize(
    "spelling", ["Smith-Jones", "Smith Jones", "SMITH JONES", "smith - jones", "SmithJones"]
)
def test_double_barrelled_surnames_agree(spelling: str) -> None:
    assert surname_key(spelling) == "smithjones"


def test_surname_parts() -> None:
    assert surname_parts("Smith-Jones") == ("smith", "jones")
    assert surname_parts("García López") == ("garcia", "lopez")
    assert surname_parts("de la Cruz") == ()  # particles stay with their word: one part
    assert surname_parts("Al-Hassan") == ()
    assert surname_parts("van der Berg-Smit") == ("vanderberg", "smit")
    assert surname_parts("García y López") == ("garcia", "lopez")
    assert surname_parts("Smith") == ()
    assert surname_key("O'Brien") == surname_key("O Brien") == "obrien"


@FAST
@given(names)
def test_surname_key_is_idempotent(name: str) -> None:
    assert surname_key(surname_key(name)) == surname_key(name)


def test_phonetic_codes() -> None:
    assert phonetic("Smith") == phonetic("Smyth") == phonetic("SMITH")
    assert phonetic("Hussain") == phonetic("Hussein")
    assert phonetic("Choudhury") == phonetic("Chowdhury")
    assert phonetic("Smith") != phonetic("Jones")
    assert phonetic("سمير") == "سمير"  # not Latin script: kept whole, not reduced to "س000"
    assert phonetic("") == ""


@FAST
@given(names)
def test_phonetic_ignores_case_and_accents(name: str) -> None:
    assert phonetic(name.upper()) == phonetic(strip_accents(name).lower())


# --- dates -------------------------------------------------------------------------------------

dates = st.dates(min_value=dt.date(1000, 1, 1), max_value=dt.date(9999, 12, 31))
FORMATS = [
    lambda d: d.isoformat(),
    lambda d: f"{d.day:02d}/{d.month:02d}/{d.year}",
    lambda d: f"{d.day}/{d.month}/{d.year}",
    lambda d: f"{d.day:02d}-{d.month:02d}-{d.year}",
    lambda d: f"{d.day}-{d.month}-{d.year}",
    lambda d: f"{d.day:02d}.{d.month:02d}.{d.year}",
    lambda d: f"{d.day} {d:%b} {d.year}",
    lambda d: f"{d.day} {d:%B} {d.year}",
    lambda d: f"{d.day:02d} {d:%B} {d.year}".upper(),
    lambda d: f"  {d.day}   {d:%b}  {d.year} ",
]


@FAST
@given(dates, st.sampled_from(FORMATS))
def test_parse_date_round_trips_every_accepted_form(
    date: dt.date, form: Callable[[dt.date], str]
) -> None:
    assert parse_date(form(date)) == date


def test_slashed_dates_are_day_first() -> None:
    assert parse_date("03/04/2015") == dt.date(2015, 4, 3)
    assert parse_date("3/4/2015") == dt.date(2015, 4, 3)
    assert parse_date("3 Sept 2015") == dt.date(2015, 9, 3)


@pytest.mark.parametrize("blank", ["", "   ", "\t"])
def test_blank_date_is_none(blank: str) -> None:
    assert parse_date(blank) is None


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("31/02/2015", "no such day"),
        ("29/02/2015", "no such day"),
        ("2015-13-01", "no such day"),
        ("00/01/2015", "no such day"),
        ("3/3/15", "four digits"),
        ("03-03-15", "four digits"),
        ("3 Mar 15", "four digits"),
        ("2015/03/03", "accepted form"),
        ("03/03/2015 10:00", "accepted form"),
        ("3rd March 2015", "accepted form"),
        ("3 Marchember 2015", "accepted form"),
        ("yesterday", "accepted form"),
        ("15-3-3", "four digits"),
    ],
)
def test_bad_dates_raise_date_error(text: str, message: str) -> None:
    with pytest.raises(DateError, match=message) as caught:
        parse_date(text)
    assert isinstance(caught.value, ValueError)
    if message == "accepted form":
        assert "DD/MM/YYYY" in str(caught.value)
        assert "3 March 2015" in str(caught.value)


@FAST
@given(dates.filter(lambda d: d.year >= 1000), st.integers(min_value=0, max_value=99))
def test_two_digit_years_are_refused(date: dt.date, year: int) -> None:
    with pytest.raises(DateError, match="four digits"):
        parse_date(f"{date.day:02d}/{date.month:02d}/{year:02d}")


# --- postcodes ---------------------------------------------------------------------------------

letter = st.sampled_from(string.ascii_uppercase)
digit = st.sampled_from(string.digits)
outward = st.one_of(
    st.tuples(letter, digit).map("".join),  # A9
    st.tuples(letter, digit, digit).map("".join),  # A99
    st.tuples(letter, letter, digit).map("".join),  # AA9
    st.tuples(letter, letter, digit, digit).map("".join),  # AA99
    st.tuples(letter, digit, letter).map("".join),  # A9A
    st.tuples(letter, letter, digit, letter).map("".join),  # AA9A
)
inward = st.tuples(digit, letter, letter).map("".join)
postcodes = st.one_of(st.tuples(outward, inward).map(" ".join), st.just("GIR 0AA"))
spacing = st.sampled_from(["", " ", "  ", "\t"])


@FAST
@given(postcodes, spacing, spacing, spacing, st.booleans())
def test_postcodes_round_trip_in_any_case_and_spacing(
    postcode: str, before: str, middle: str, after: str, lower: bool
) -> None:
    out, inn = postcode.split(" ")
    written = f"{before}{out}{middle}{inn}{after}"
    written = written.lower() if lower else written
    assert normalise_postcode(written) == postcode
    assert normalise_postcode(postcode) == postcode


@FAST
@given(st.text(max_size=12))
def test_normalise_postcode_is_idempotent(text: str) -> None:
    once = normalise_postcode(text)
    assert once is None or normalise_postcode(once) == once


@pytest.mark.parametrize(
    "text", ["", "  ", "E8", "E81", "1E8 1AB", "E8 1A", "E8 AAB", "EEE8 1AB", "E8 1ABC", "ё8 1ab"]
)
def test_invalid_postcodes_are_none(text: str) -> None:
    assert normalise_postcode(text) is None


def test_postcode_examples() -> None:
    assert normalise_postcode("e81ab") == "E8 1AB"
    assert normalise_postcode(" e8  1ab ") == "E8 1AB"
    assert normalise_postcode("sw1a1aa") == "SW1A 1AA"
    assert normalise_postcode("EC1A 1BB") == "EC1A 1BB"
    assert normalise_postcode("gir0aa") == "GIR 0AA"


# --- NHS numbers -------------------------------------------------------------------------------


def reference_check_digit(nine: str) -> int:
    """The Data Dictionary's rule, written out independently: 10 here means "no valid number"."""
    remainder = sum(weight * int(d) for weight, d in zip(range(10, 1, -1), nine, strict=True)) % 11
    return (11 - remainder) % 11


nine_digits = st.text(alphabet=string.digits, min_size=9, max_size=9)
valid_nhs_numbers = (
    nine_digits.filter(lambda nine: reference_check_digit(nine) != 10)
    .map(lambda nine: f"{nine}{reference_check_digit(nine)}")
    .filter(lambda number: number not in PLACEHOLDERS)
)


@FAST
@given(nine_digits)
def test_nhs_check_digit_follows_the_data_dictionary(nine: str) -> None:
    expected = reference_check_digit(nine)
    assert nhs_check_digit(nine) == (None if expected == 10 else expected)


def test_nhs_check_digit_examples() -> None:
    assert nhs_check_digit("943476591") == 9  # the Data Dictionary's example, 943 476 5919
    assert normalise_nhs_number("943 476 5919") == "9434765919"
    assert normalise_nhs_number("943 476 5918") is None


def test_check_digit_ten_means_no_valid_number() -> None:
    nine = next(f"{n:09d}" for n in range(1000) if reference_check_digit(f"{n:09d}") == 10)
    assert nhs_check_digit(nine) is None
    for last in string.digits:
        assert normalise_nhs_number(nine + last) is None


@FAST
@given(
    valid_nhs_numbers, st.sampled_from(["{a}{b}{c}", "{a} {b} {c}", "{a}-{b}-{c}", " {a} {b}{c} "])
)
def test_valid_nhs_numbers_pass_in_any_grouping(number: str, grouping: str) -> None:
    written = grouping.format(a=number[:3], b=number[3:6], c=number[6:])
    assert normalise_nhs_number(written) == number


@FAST
@given(valid_nhs_numbers)
def test_every_single_digit_substitution_fails(number: str) -> None:
    for position in range(10):
        for replacement in string.digits:
            if replacement != number[position]:
                wrong = number[:position] + replacement + number[position + 1 :]
                assert normalise_nhs_number(wrong) is None, (number, wrong)


@FAST
@given(valid_nhs_numbers)
def test_every_adjacent_transposition_fails(number: str) -> None:
    for position in range(9):
        a, b = number[position], number[position + 1]
        if a != b:
            wrong = number[:position] + b + a + number[position + 2 :]
            assert normalise_nhs_number(wrong) is None, (number, wrong)


@pytest.mark.parametrize(
    "text", ["123", "94347659190", "943476591X", "nine four three", "٩٤٣٤٧٦٥٩١٩"]
)
def test_not_ten_digits_raises(text: str) -> None:
    with pytest.raises(NhsNumberError, match="ten digits") as caught:
        normalise_nhs_number(text)
    assert isinstance(caught.value, ValueError)
    assert text not in str(caught.value)  # the number itself is never echoed into logs


def test_blank_nhs_number_is_none() -> None:
    assert normalise_nhs_number("") is None
    assert normalise_nhs_number("   ") is None


def test_check_digit_needs_nine_digits() -> None:
    with pytest.raises(NhsNumberError, match="nine digits"):
        nhs_check_digit("12345")


@FAST
@given(valid_nhs_numbers, st.integers(min_value=0, max_value=9), st.integers(1, 9))
def test_a_changed_digit_is_corrected_back(number: str, position: int, shift: int) -> None:
    digit = str((int(number[position]) + shift) % 10)
    wrong = number[:position] + digit + number[position + 1 :]
    assert mistyped_nhs_number(wrong) == wrong
    corrections = nhs_corrections(wrong)
    assert number in corrections
    assert all(normalise_nhs_number(c) == c for c in corrections)
    assert len(set(corrections)) == len(corrections)
    assert len(corrections) <= 19  # one a position, and one a swap


@FAST
@given(valid_nhs_numbers, st.integers(min_value=0, max_value=8))
def test_an_adjacent_swap_is_corrected_back(number: str, position: int) -> None:
    wrong = number[:position] + number[position + 1] + number[position] + number[position + 2 :]
    if wrong == number:
        return
    assert number in nhs_corrections(wrong)


def test_swaps_come_first_then_changed_digits_each_in_order() -> None:
    number = "9434765919"
    wrong = number[:3] + number[4] + number[3] + number[5:]  # 9437465919
    corrections = nhs_corrections(wrong)
    swaps = [c for c in corrections if sorted(c) == sorted(wrong) and c != wrong]
    assert number in swaps
    assert list(corrections[: len(swaps)]) == sorted(swaps)
    rest = list(corrections[len(swaps) :])
    assert rest == sorted(rest) and not set(rest) & set(swaps)


def test_every_correction_is_one_slip_away() -> None:
    wrong = "9434765918"
    corrections = nhs_corrections(wrong)
    assert 5 <= len(corrections) <= 19
    for correction in corrections:
        differing = [i for i in range(10) if correction[i] != wrong[i]]
        swap = len(differing) == 2 and differing[1] == differing[0] + 1
        assert len(differing) == 1 or (swap and correction[differing[0]] == wrong[differing[1]]), (
            correction
        )


def test_mistyped_nhs_number_is_ten_digits_failing_the_check() -> None:
    assert mistyped_nhs_number("943 476 5918") == "9434765918"
    assert mistyped_nhs_number("943-476-5919") is None  # valid
    assert mistyped_nhs_number("12345") is None
    assert mistyped_nhs_number("") is None
    with pytest.raises(NhsNumberError, match="ten digits"):
        nhs_corrections("12345")


def reference_corrections(digits: str) -> set[str]:
    """Every one-digit change and adjacent swap of digits that passes the check, by search."""
    near = {digits[:i] + d + digits[i + 1 :] for i in range(10) for d in string.digits}
    near |= {digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :] for i in range(9)}
    return {n for n in near - {digits} - PLACEHOLDERS if normalise_nhs_number(n) == n}


@FAST
@given(st.text(alphabet=string.digits, min_size=10, max_size=10))
def test_corrections_are_exactly_the_valid_numbers_one_slip_away(digits: str) -> None:
    assert set(nhs_corrections(digits)) == reference_corrections(digits)


@pytest.mark.parametrize("text", ["000 000 0000", "1111111111", "999-999-9999", "0123456789"])
def test_placeholders_are_not_nhs_numbers(text: str) -> None:
    digits = text.replace(" ", "").replace("-", "")
    assert reference_check_digit(digits[:9]) == int(digits[9])  # each passes the check digit
    with pytest.raises(NhsNumberError, match="placeholder"):
        normalise_nhs_number(text)
    assert mistyped_nhs_number(text) is None


def test_a_placeholder_that_fails_the_check_is_not_taken_as_mistyped() -> None:
    assert reference_check_digit("123456789") == 10  # no valid number starts 123456789
    with pytest.raises(NhsNumberError, match="placeholder"):
        normalise_nhs_number("1234567890")
    assert mistyped_nhs_number("1234567890") is None
    assert reference_check_digit("000000000") == 0  # 0000000000 passes, one slip from ...01
    assert not PLACEHOLDERS & set(nhs_corrections("0000000001"))
