"""NHS number validation by the modulus 11 check digit of the NHS Data Dictionary, and the
corrections of a mistyped number."""

from __future__ import annotations

from operator import mul

_WEIGHTS = (10, 9, 8, 7, 6, 5, 4, 3, 2)
_ZERO = ord("0")
_ZERO_OFFSET = _ZERO * sum(_WEIGHTS)  # the weights are applied to ASCII codes, not digit values
_INVERSE = {weight: pow(weight, -1, 11) for weight in _WEIGHTS}
# What agencies write when the number is not known. Each passes the check digit (a digit ten times
# always does) or looks mistyped (1234567890), so without this list the records of everyone
# carrying one would be joined.
PLACEHOLDERS = frozenset(
    [digit * 10 for digit in "0123456789"]
    + ["0123456789", "1234567890", "9876543210", "0987654321"]
)


class NhsNumberError(ValueError):
    """Raised when text cannot be an NHS number at all (not ten digits)."""


def nhs_check_digit(first_nine: str) -> int | None:
    """Return the modulus 11 check digit for the first nine digits, or None if none exists.

    Each digit is weighted 10 down to 2; the check digit is 11 minus the remainder of the sum
    divided by 11. A result of 11 becomes 0; a result of 10 means no valid number has these
    nine digits, so None is returned.
    """
    if len(first_nine) != 9 or not first_nine.isascii() or not first_nine.isdigit():
        raise NhsNumberError(f"the check digit needs exactly nine digits, got {len(first_nine)}")
    return _check_digit(first_nine.encode())


def _check_digit(ascii_digits: bytes) -> int | None:
    """Return the check digit of the first nine of some ASCII digits (any beyond are ignored)."""
    total = sum(map(mul, _WEIGHTS, ascii_digits)) - _ZERO_OFFSET
    check = 11 - (total % 11)
    if check == 11:
        return 0
    if check == 10:
        return None
    return check


def normalise_nhs_number(text: str) -> str | None:
    """Return the ten digits of a valid NHS number, or None if empty or failing the check digit.

    Spaces and hyphens are ignored ("943 476 5919", "943-476-5919"). Text that is not ten digits
    after that, or is a placeholder such as 0000000000, raises NhsNumberError. Ten digits with a
    wrong check digit (a mistyped number) return None: the caller keeps the text as data and must
    not match on it as written (nhs_corrections gives the numbers it may have been).
    """
    digits = "".join(text.split()).replace("-", "")
    if not digits:
        return None
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise NhsNumberError(
            "an NHS number is ten digits, optionally grouped 3-3-4 with spaces or hyphens; "
            f"got {len(digits)} characters after removing separators"
        )
    if digits in PLACEHOLDERS:
        raise NhsNumberError("a placeholder written for an unknown number, not an NHS number")
    if not _valid(digits):
        return None
    return digits


def mistyped_nhs_number(text: str) -> str | None:
    """Return the ten digits of text when they fail the check digit, else None.

    Such a number was almost certainly mistyped: one digit changed or two adjacent digits
    swapped always fails the modulus 11 check. Text that is not ten digits, blank, valid or a
    placeholder gives None.
    """
    digits = "".join(text.split()).replace("-", "")
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        return None
    if digits in PLACEHOLDERS or _valid(digits):
        return None
    return digits


def nhs_corrections(digits: str) -> tuple[str, ...]:
    """Return the valid NHS numbers one slip from ten digits: the swaps first, then the changed
    digits, each in ascending order.

    A slip is one digit changed or two adjacent digits swapped, the two mistakes the check
    digit is built to catch. A mistyped number has about nine corrections: for each position
    at most one replacement digit gives a valid number (the weights are invertible modulo 11,
    so it is computed, not searched for), and a few swaps do. The swaps come first because they
    are few (usually none or one) and two digits keyed the wrong way round is a common slip, so
    a caller that can keep only some corrections keeps the likeliest. Placeholders are left out.
    """
    if len(digits) != 10 or not digits.isascii() or not digits.isdigit():
        raise NhsNumberError(f"a correction needs exactly ten digits, got {len(digits)}")
    values = [ord(c) - _ZERO for c in digits]
    total = sum(map(mul, _WEIGHTS, values))
    wanted = (11 - values[9]) % 11  # the weighted sum modulo 11 of a number with this check digit
    found = set()
    for i, weight in enumerate(_WEIGHTS):
        step = (wanted - total) * _INVERSE[weight] % 11
        new = values[i] + step if values[i] + step <= 9 else values[i] + step - 11
        if step and new >= 0:
            found.add(f"{digits[:i]}{new}{digits[i + 1 :]}")
    own = _check_digit(digits.encode())
    if own is not None and own != values[9]:
        found.add(f"{digits[:9]}{own}")
    swaps = set()
    for i in range(9):
        swapped = digits[:i] + digits[i + 1] + digits[i] + digits[i + 2 :]
        if swapped != digits and _valid(swapped):
            swaps.add(swapped)
    swaps -= PLACEHOLDERS
    return (*sorted(swaps), *sorted(found - swaps - PLACEHOLDERS))


def _valid(digits: str) -> bool:
    """Return whether ten ASCII digits carry the right check digit."""
    codes = digits.encode()
    return _check_digit(codes) == codes[9] - _ZERO
