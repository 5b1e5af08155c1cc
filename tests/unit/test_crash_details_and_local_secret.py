"""What a crashed attempt's event keeps of its exception, and `make run`'s webhook secret."""

import os

from app.domain import timeline, webhooks
from app.domain.timeline import ErrorInfo
from app.local import webhook_secret


def _fail_while_handling(depth: int) -> None:
    """A chain of exceptions, each raised while handling the one before: a long stack trace."""
    try:
        if depth:
            _fail_while_handling(depth - 1)
        raise KeyError(f"first cause {'y' * 300}")
    except (LookupError, ValueError) as cause:
        raise ValueError(f"bad value at depth {depth}: {'x' * 2000}") from cause


def test_a_crash_keeps_its_type_message_and_the_end_of_its_stack():
    try:
        _fail_while_handling(5)
    except ValueError as exc:
        error = ErrorInfo.of(exc)
    assert error.type == "ValueError"
    assert error.message.startswith("bad value at depth 5: ")
    assert len(error.message) == timeline.MAX_ERROR_MESSAGE_CHARS + len("...")
    assert len(error.stack) == timeline.MAX_STACK_CHARS + len("...\n") and error.stack.startswith("...\n")
    # The head is cut; the end, where the crash surfaced, is kept.
    assert "first cause" not in error.stack
    assert error.stack.rstrip().endswith("x" * 100) and "ValueError: bad value at depth 5" in error.stack
    assert error.to_public() == {"type": "ValueError", "message": error.message, "stack": error.stack}


def test_make_run_makes_one_secret_per_data_folder_unless_one_is_given(tmp_path, monkeypatch):
    monkeypatch.delenv("WEBHOOK_SECRET", raising=False)
    secret, given = webhook_secret.ensure(tmp_path / "data")
    assert not given and webhooks.secret_key(secret)
    assert (tmp_path / "data" / webhook_secret.FILE_NAME).stat().st_mode & 0o777 == 0o600
    monkeypatch.delenv("WEBHOOK_SECRET")
    assert webhook_secret.ensure(tmp_path / "data") == (secret, False)
    assert os.environ["WEBHOOK_SECRET"] == secret
    # Another folder, another secret; a given one wins.
    monkeypatch.delenv("WEBHOOK_SECRET")
    assert webhook_secret.ensure(tmp_path / "other")[0] != secret
    monkeypatch.setenv("WEBHOOK_SECRET", "whsec_given")
    assert webhook_secret.ensure(tmp_path / "data") == ("whsec_given", True)
