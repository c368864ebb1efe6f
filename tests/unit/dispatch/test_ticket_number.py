"""Complaint ticket numbers: regency, number and a Luhn check digit that catches typos."""

from hypothesis import given
from hypothesis import strategies as st

from dispatch.complaint_service import luhn_digit, normalize_ticket_number, ticket_number


def test_known_luhn_digits():
    # the textbook example: 7992739871 has check digit 3
    assert luhn_digit("7992739871") == 3
    assert ticket_number("51.06", 123) == "5106-000123-" + str(luhn_digit("5106000123"))


def test_quoted_forms_are_normalized():
    number = ticket_number("51.06", 42)
    assert normalize_ticket_number(number.replace("-", " ")) == number
    assert normalize_ticket_number(number.replace("-", "")) == number
    assert normalize_ticket_number("5106-00004x-1") is None
    assert normalize_ticket_number("51") is None


@given(st.integers(min_value=1, max_value=9_999_999), st.integers(0, 9), st.integers(0, 20))
def test_every_single_digit_typo_is_caught(ticket_id, new_digit, position):
    number = ticket_number("34.71", ticket_id)
    digits = [c for c in number if c.isdigit()]
    position %= len(digits)
    if int(digits[position]) == new_digit:
        return
    digits[position] = str(new_digit)
    assert normalize_ticket_number("".join(digits)) is None
