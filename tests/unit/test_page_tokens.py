import base64
import json

import pytest

from app.adapters import page_tokens
from app.domain.errors import InvalidPageToken

TASK_ID = "0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10"
CURSOR = f"1700000000000#{TASK_ID}"
LISTING = "by_status|CREATED|None|None"


def test_round_trip():
    assert page_tokens.decode(page_tokens.encode(LISTING, CURSOR), LISTING) == CURSOR


def test_token_is_opaque_url_safe_text():
    token = page_tokens.encode(LISTING, CURSOR)
    assert TASK_ID not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "token", ["", "x", "!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b"[1,2]").decode()]
)
def test_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, LISTING)


def test_any_changed_character_is_refused():
    token = page_tokens.encode(LISTING, CURSOR)
    for position in range(0, len(token), 7):
        flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        with pytest.raises(InvalidPageToken):
            page_tokens.decode(flipped, LISTING)


def test_a_forged_token_is_refused():
    """An unsigned body, or one signed with any key but the service's, however well formed."""
    body = json.dumps({"v": 3, "l": LISTING, "c": f"1800000000000#{TASK_ID}"})
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(base64.urlsafe_b64encode(body.encode()).decode(), LISTING)
    signed_elsewhere = page_tokens.encode(LISTING, CURSOR, keys=["attacker-key-" + "x" * 32])
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(signed_elsewhere, LISTING)


def test_keys_rotate_oldest_first():
    old, new = "o" * 32, "n" * 32
    token = page_tokens.encode(LISTING, CURSOR, keys=[old])
    assert page_tokens.decode(token, LISTING, keys=[old, new]) == CURSOR
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, LISTING, keys=[new])


def test_token_of_another_listing_is_refused():
    token = page_tokens.encode(LISTING, CURSOR)
    for other in ("by_status|FAILED|None|None", "by_type|TASK1|None|None", "by_status|CREATED|0|None"):
        with pytest.raises(InvalidPageToken):
            page_tokens.decode(token, other)


def test_a_cursor_that_is_not_a_sort_key_is_refused():
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(page_tokens.encode(LISTING, "TASK#../../x"), LISTING)
