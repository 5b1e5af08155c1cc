import base64
import hashlib
import json

import pytest

from app.adapters import page_tokens
from app.domain.errors import InvalidPageToken

TASK_ID = "0b6f3f8e-6a0e-4a55-9d4f-2f0c1d7b9a10"
KEY = {"pk": f"TASK#{TASK_ID}", "sk": "TASK", "status": "CREATED", "list_sk": f"1700000000000#{TASK_ID}"}


def test_round_trip():
    token = page_tokens.encode("by_status", KEY)
    assert page_tokens.decode(token, "by_status", "status", "CREATED") == KEY


def test_token_is_opaque_url_safe_text():
    token = page_tokens.encode("by_status", KEY)
    assert TASK_ID not in token
    assert set(token) <= set("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.")


@pytest.mark.parametrize(
    "token", ["", "x", "!!!", "bm90IGpzb24", base64.urlsafe_b64encode(b"[1,2]").decode()]
)
def test_malformed_tokens_are_refused(token):
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, "by_status", "status", "CREATED")


def test_any_changed_character_is_refused():
    token = page_tokens.encode("by_status", KEY)
    for position in range(0, len(token), 7):
        flipped = token[:position] + ("A" if token[position] != "A" else "B") + token[position + 1 :]
        with pytest.raises(InvalidPageToken):
            page_tokens.decode(flipped, "by_status", "status", "CREATED")


def test_a_forged_token_with_a_recomputed_checksum_is_refused():
    """What broke the unkeyed checksum: anyone could rewrite the body and hash it again."""
    other = {**KEY, "list_sk": f"1800000000000#{TASK_ID}"}
    body = json.dumps({"v": 1, "i": "by_status", "k": other}, sort_keys=True, separators=(",", ":"))
    old_style = {"b": body, "c": hashlib.sha256(body.encode()).hexdigest()[:16]}
    token = base64.urlsafe_b64encode(json.dumps(old_style).encode()).decode().rstrip("=")
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, "by_status", "status", "CREATED")
    # Signed with any key but the service's: refused, however well formed.
    signed_elsewhere = page_tokens.encode("by_status", other, keys=["attacker-key-" + "x" * 32])
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(signed_elsewhere, "by_status", "status", "CREATED")


def test_keys_rotate_oldest_first():
    old, new = "o" * 32, "n" * 32
    token = page_tokens.encode("by_status", KEY, keys=[old])
    assert page_tokens.decode(token, "by_status", "status", "CREATED", keys=[old, new]) == KEY
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, "by_status", "status", "CREATED", keys=[new])


def test_token_of_another_query_is_refused():
    token = page_tokens.encode("by_status", KEY)
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, "by_type", "task_type", "TASK1")
    with pytest.raises(InvalidPageToken):
        page_tokens.decode(token, "by_status", "status", "FAILED")
