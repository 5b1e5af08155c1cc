import pytest

from app.domain import rules
from app.domain.errors import DataTooLarge, InvalidTaskInput


@pytest.mark.parametrize(
    ("value", "expected"), [(1_900_000_000, 1_900_000_000), ("1900000000", 1_900_000_000)]
)
def test_ttl_accepts_int_and_numeric_string(value, expected):
    assert rules.parse_epoch_seconds(value) == expected


@pytest.mark.parametrize(
    "value", [True, 1.5, "1.9e9", "soon", "", "-5", [1], {"s": 1}, "\uff11\uff12"]
)  # full-width digits
def test_ttl_refuses_anything_else(value):
    with pytest.raises(InvalidTaskInput, match="epoch seconds"):
        rules.parse_epoch_seconds(value)


def test_ttl_in_the_past_is_refused():
    with pytest.raises(InvalidTaskInput, match="in the past"):
        rules.check_ttl(999, now=1000)
    rules.check_ttl(1001, now=1000)


def test_data_size_limit_counts_utf8_bytes():
    rules.check_data_size({"k": "x" * 10}, limit=100)
    with pytest.raises(DataTooLarge) as too_large:
        rules.check_data_size({"k": "é" * 60}, limit=100)
    assert too_large.value.size > 100
    assert "limit is 100 bytes" in str(too_large.value)
