"""What the dashboard's query strings and forms say, checked, with a message per bad field."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import UTC, datetime
from typing import Any

from app.dashboard.timing import DEFAULT_SORT, SORTS
from app.domain import rules, search
from app.domain.errors import InvalidJson, InvalidSearch, InvalidTaskInput, TooDeeplyNested
from app.domain.listing import DEFAULT_PAGE_SIZE, MAX_PAGE_SIZE, TaskQuery, retry_filter_conflict
from app.domain.task import RetryState, Task, TaskStatus
from app.services.dashboard import RowKey
from app.task_registry import names as task_type_names

PAGE_SIZES = (10, 20, 50, 100)
# The created-time presets beside the pickers: relative, so a bookmark keeps meaning "the last hour".
RANGES: dict[str, int] = {"15m": 15 * 60, "1h": 3600, "24h": 86400, "7d": 7 * 86400}
RANGE_LABELS = {"15m": "15 min", "1h": "1 h", "24h": "24 h", "7d": "7 d"}
# The retry filter's choices, as the list names them (the counts' chips link to the same).
RETRY_STATE_LABELS = {
    RetryState.RETRYING: "Retrying (between attempts)",
    RetryState.GAVE_UP: "Gave up (attempts ran out)",
    RetryState.NONE: "Neither (running, or failed by its run)",
}


def ticked_ids(form: Any) -> list[str]:
    """The task ids a bulk form posted (its ``ids`` checkboxes), blanks and files left out."""
    return [value for value in form.getlist("ids") if isinstance(value, str) and value]


# The times a filter can name: what a datetime-local input can show (years 1970 to 9999, UTC).
LATEST_EPOCH = int(datetime(9999, 12, 31, 23, 59, 59, tzinfo=UTC).timestamp())
OUT_OF_RANGE = "expected a time from 1970-01-01 to 9999-12-31"


def parse_time(value: str, *, end_of: bool = False) -> int:
    """Epoch seconds from a datetime-local value read as UTC ("2026-11-05T10:30[:15]") or from digits.

    With ``end_of``, a time given to the minute covers that whole minute (an inclusive upper bound).
    ValueError with a message for anything else, or for a time outside 1970 to 9999.
    """
    value = value.strip()
    if value.isascii() and value.isdigit():
        if len(value) > len(str(LATEST_EPOCH)) or int(value) > LATEST_EPOCH:
            raise ValueError(OUT_OF_RANGE)
        return int(value)
    try:
        moment = datetime.fromisoformat(value)
        if moment.tzinfo is None:
            moment = moment.replace(tzinfo=UTC)
        # An offset can carry a time past year 9999 or before year 1 in UTC.
        epoch = int(moment.timestamp())
    except (ValueError, OverflowError, OSError):
        raise ValueError("expected a date and time, like 2026-11-05T10:30") from None
    if end_of and len(value) <= len("2026-11-05T10:30"):
        epoch += 59
    if not 0 <= epoch <= LATEST_EPOCH:
        raise ValueError(OUT_OF_RANGE)
    return epoch


def time_input(epoch: int | None) -> str:
    """The value a datetime-local input shows for ``epoch`` (UTC, to the second)."""
    if epoch is None:
        return ""
    return datetime.fromtimestamp(epoch, UTC).strftime("%Y-%m-%dT%H:%M:%S")


def _search(q: str, values: dict[str, Any], errors: dict[str, str]) -> None:
    """A search's words into ``values``; a search takes no status nor retry state (the index holds none)."""
    if not q:
        return
    values["q"] = q[: search.MAX_QUERY_CHARS * 2]
    try:
        values["words"] = search.query_words(q)
    except InvalidSearch as exc:
        errors["q"] = str(exc)
        return
    if values.pop("retry_state", None) is not None:
        values.pop("status", None)  # implied by the retry state, or chosen with it
        errors["retry_state"] = "A search covers every task: the retries and status filters are not applied."
    elif values.pop("status", None) is not None:
        errors["status"] = "A search covers every status: the status filter is not applied."


@dataclass(frozen=True)
class ListFilters:
    status: TaskStatus | None = None
    task_type: str | None = None
    created_from: int | None = None
    created_to: int | None = None
    limit: int = DEFAULT_PAGE_SIZE
    sort: str = DEFAULT_SORT
    # A preset ("1h"): created_from is then that long before the request.
    range: str | None = None
    # The last row "Load more" showed: the page is rebuilt down to it (Back, reload).
    through: RowKey | None = None
    # A search (app/domain/search.py): as typed, and its words.
    q: str = ""
    words: tuple[str, ...] = ()
    errors: dict[str, str] = field(default_factory=dict)
    retry_state: RetryState | None = None

    @classmethod
    def from_params(cls, params: Mapping[str, str], now: float | None = None) -> ListFilters:
        """Bad values are dropped with a message, so a mistyped URL still shows a page."""
        errors: dict[str, str] = {}
        values: dict[str, Any] = {}

        def pick(name: str, allowed: Mapping[str, Any], what: str) -> None:
            raw = params.get(name, "").strip()
            if raw and raw in allowed:
                values[name] = allowed[raw]
            elif raw:
                errors[name] = f"Unknown {what} {raw!r}"

        pick("status", {status.value: status for status in TaskStatus}, "status")
        pick("task_type", {task_type: task_type for task_type in task_type_names()}, "task type")
        pick("sort", {sort: sort for sort in SORTS}, "order")
        pick("retry_state", {state.value: state for state in RetryState}, "retry state")
        conflict = retry_filter_conflict(values.get("status"), values.get("retry_state"))
        if conflict:
            errors["retry_state"] = conflict
            del values["retry_state"]
        state = values.get("retry_state")
        if state and state.status:
            values.setdefault("status", state.status)  # implied: the status select and the counts show it
        through = params.get("through", "").strip()
        if through:
            try:
                values["through"] = RowKey.parse(through)
            except ValueError:
                errors["through"] = "This page link is no longer valid; showing the first page."
        for name in ("created_from", "created_to"):
            raw = params.get(name, "").strip()
            if raw:
                try:
                    values[name] = parse_time(raw, end_of=name == "created_to")
                except ValueError as exc:
                    errors[name] = str(exc)
        limit = params.get("limit", "").strip()
        if limit:
            if limit.isdigit() and 1 <= int(limit) <= MAX_PAGE_SIZE:
                values["limit"] = int(limit)
            else:
                errors["limit"] = f"Page size must be 1 to {MAX_PAGE_SIZE}"
        # A preset counts only while both pickers are empty: times typed in win.
        preset = params.get("range", "").strip()
        typed = params.get("created_from", "").strip() or params.get("created_to", "").strip()
        if preset and not typed:
            if preset in RANGES:
                now = time.time() if now is None else now
                values.update(range=preset, created_from=int(now) - RANGES[preset])
            else:
                errors["range"] = f"Unknown time range {preset!r}"
        _search(params.get("q", "").strip(), values, errors)
        start, end = values.get("created_from"), values.get("created_to")
        if start is not None and end is not None and start > end:
            errors["created_to"] = "The end of the range is before its start"
            del values["created_to"]
        return cls(**values, errors=errors)

    def query(self) -> TaskQuery:
        return TaskQuery(
            status=self.status,
            task_type=self.task_type,
            created_from=self.created_from,
            created_to=self.created_to,
            limit=self.limit,
            retry_state=self.retry_state,
            words=self.words,
        )

    def params(self, **changes: Any) -> dict[str, Any]:
        """The query string that reproduces these filters (only what differs from the defaults).

        A preset stands for its own times. ``through`` is never carried over:
        it belongs to one page, not to the filters.
        """
        params: dict[str, Any] = {
            "status": self.status.value if self.status else None,
            "retry_state": self.retry_state.value if self.retry_state else None,
            "task_type": self.task_type,
            "range": self.range,
            "created_from": None if self.range else time_input(self.created_from),
            "created_to": None if self.range else time_input(self.created_to),
            "limit": self.limit if self.limit != DEFAULT_PAGE_SIZE else None,
            "sort": self.sort if self.sort != DEFAULT_SORT else None,
            "q": self.q or None,
        }
        params.update(changes)
        return {key: value for key, value in params.items() if value not in (None, "")}

    def with_range(self, preset: str | None) -> dict[str, Any]:
        """The query string of these filters over a preset time range (None: any time)."""
        return self.params(range=preset, created_from=None, created_to=None)

    def describe(self, with_status: bool = False) -> str:
        """The filters in words, the status aside unless asked: 'type TASK2, created in the last 1 h'."""
        parts = [f"status {self.status.value}"] if with_status and self.status else []
        if self.retry_state:
            parts.append(RETRY_STATE_LABELS[self.retry_state].split(" (")[0].lower())
        if self.words:
            parts.append(f"with the words {' '.join(self.words)}")
        parts.append(f"type {self.task_type}" if self.task_type else "any type")
        if self.range:
            parts.append(f"created in the last {RANGE_LABELS[self.range]}")
        elif self.created_from is not None or self.created_to is not None:
            start = time_input(self.created_from).replace("T", " ") or "the start"
            end = time_input(self.created_to).replace("T", " ") or "now"
            parts.append(f"created from {start} to {end} UTC")
        else:
            parts.append("created at any time")
        return ", ".join(parts)

    @property
    def active(self) -> bool:
        """Whether anything narrows the listing (the order and page size don't)."""
        return bool(self.params(limit=None, sort=None))

    @property
    def sorted_within_page(self) -> bool:
        return self.sort != DEFAULT_SORT

    @property
    def page_sizes(self) -> list[int]:
        return sorted({*PAGE_SIZES, self.limit})


@dataclass
class CreateForm:
    """The create form as typed, kept for redisplay, and what was wrong with it."""

    task_type: str = field(default_factory=lambda: task_type_names()[0])
    data: str = "{}"
    ttl: str = ""
    # The task this form was pre-filled from ("Retry with edited data", "Clone"); not linked to it.
    cloned_from: str = ""
    errors: dict[str, str] = field(default_factory=dict)

    @property
    def data_rows(self) -> int:
        """Tall enough for pre-filled data (up to a point), four lines otherwise."""
        return max(4, min(16, self.data.count("\n") + 1))

    @classmethod
    def cloned(cls, task: Task) -> CreateForm:
        # In the order it was sent, indented to be edited.
        return cls(task.task_type, json.dumps(task.data, indent=2, ensure_ascii=False), "", task.id)


@dataclass(frozen=True)
class NewTask:
    task_type: str
    data: dict[str, Any]
    ttl: int | None


def parse_create(form: Mapping[str, Any], now: float | None = None) -> tuple[CreateForm, NewTask | None]:
    cloned_from = str(form.get("cloned_from", "")).strip()
    typed = CreateForm(
        task_type=str(form.get("task_type", "")),
        data=str(form.get("data", "")),
        ttl=str(form.get("ttl", "")).strip(),
        cloned_from=cloned_from if rules.TASK_ID.match(cloned_from) else "",
    )
    errors = typed.errors
    if typed.task_type not in task_type_names():
        errors["task_type"] = f"Choose one of {', '.join(task_type_names())}"
    data: Any = None
    try:
        data = rules.parse_json(typed.data or "{}")
    except (InvalidJson, TooDeeplyNested) as exc:
        errors["data"] = str(exc)
    else:
        if not isinstance(data, dict):
            errors["data"] = 'Data must be a JSON object, like {"text": "hello"}'
    ttl: int | None = None
    if typed.ttl:
        try:
            ttl = rules.parse_epoch_seconds(typed.ttl)
            rules.check_ttl(ttl, time.time() if now is None else now)
        except InvalidTaskInput as exc:
            errors["ttl"] = str(exc)
    if errors:
        return typed, None
    return typed, NewTask(typed.task_type, data, ttl)
