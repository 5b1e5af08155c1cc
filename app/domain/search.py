"""Text search: the words a task is found by, and the words a search asks for. Pure: no I/O.

A task is indexed by the words of
- its ``data`` fields its type declares ``searchable`` (dotted paths; the
  strings and numbers found there, at any depth),
- its status message while it stands: in a final status, or between attempts
  (a crash's message, ``retry_at`` set). A running attempt's progress messages
  are not indexed: they change every second and would rewrite the index as often,
- its result's values (strings and numbers; not its keys, which every task of a
  type shares).

Words are runs of letters and digits (an underscore, a hyphen, any
punctuation splits them), NFKC-normalised, case- and accent-folded, read
from the first MAX_TEXT_CHARS characters of each value; shorter than
MIN_WORD_CHARS they are dropped, longer than MAX_WORD_CHARS cut to it (a long
id still matches by its start). Each source keeps only its first distinct
words up to its cap, so a task has at most MAX_WORDS_PER_TASK index entries,
whatever its data holds: 64 KiB of unique words costs the same as 16.

A search's words are all required (AND); they are normalised the same way.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterator, Sequence
from typing import Any

from app.domain.errors import InvalidSearch

MIN_WORD_CHARS = 2
MAX_WORD_CHARS = 32
MAX_DATA_WORDS = 16
MAX_MESSAGE_WORDS = 8
MAX_RESULT_WORDS = 8
MAX_WORDS_PER_TASK = MAX_DATA_WORDS + MAX_MESSAGE_WORDS + MAX_RESULT_WORDS
MAX_QUERY_CHARS = 200
MAX_QUERY_WORDS = 4
MAX_SEARCHABLE_FIELDS = 8
# Characters of one value (a string of data, a message, the result's) read for words.
MAX_TEXT_CHARS = 8192
# Deeper values of a searchable field are not looked at (data is nested at most 32 deep).
MAX_VALUE_DEPTH = 8

SEARCHABLE_PATH = re.compile(r"^[A-Za-z0-9_-]+(\.[A-Za-z0-9_-]+)*$")
_WORD = re.compile(r"[^\W_]+")
_FINAL = frozenset({"COMPLETED", "FAILED", "CANCELLED"})


def normalised(text: str) -> str:
    """Compatibility forms, case and accents folded: full-width 'FOO' and 'Foo' are 'foo', 'Café' is 'cafe'.

    Only the first MAX_TEXT_CHARS of a value are read: what it costs to index is bounded too.
    """
    decomposed = unicodedata.normalize("NFKD", text[:MAX_TEXT_CHARS])
    bare = "".join(char for char in decomposed if not unicodedata.combining(char))
    return unicodedata.normalize("NFKC", bare.casefold())


def words_of(text: str, limit: int, into: dict[str, None] | None = None) -> dict[str, None]:
    """The distinct words of ``text`` in order, added to ``into`` until it holds ``limit``."""
    found = {} if into is None else into
    if len(found) >= limit:
        return found
    for match in _WORD.finditer(normalised(text)):
        word = match.group()[:MAX_WORD_CHARS]
        if len(word) >= MIN_WORD_CHARS:
            found[word] = None
            if len(found) >= limit:
                break
    return found


def _texts(value: Any, depth: int = 0) -> Iterator[str]:
    """The strings and numbers in a JSON value, in order (booleans and nulls say nothing)."""
    if isinstance(value, bool) or value is None or depth > MAX_VALUE_DEPTH:
        return
    if isinstance(value, str):
        yield value
    elif isinstance(value, int | float):
        yield str(value)
    elif isinstance(value, list):
        for member in value:
            yield from _texts(member, depth + 1)
    elif isinstance(value, dict):
        for member in value.values():
            yield from _texts(member, depth + 1)


def value_at(data: Any, path: str) -> Any:
    """The value at a dotted path of ``data`` (``customer.name``), or None."""
    for part in path.split("."):
        if not isinstance(data, dict) or part not in data:
            return None
        data = data[part]
    return data


def _capped(values: Iterator[str], limit: int) -> dict[str, None]:
    found: dict[str, None] = {}
    for text in values:
        words_of(text, limit, found)
        if len(found) >= limit:
            break
    return found


def task_words(
    searchable: Sequence[str],
    data: Any,
    status: str,
    status_msg: str,
    between_attempts: bool,
    result: Any,
) -> frozenset[str]:
    """The words a task is found by (at most MAX_WORDS_PER_TASK)."""
    fields = (text for path in searchable for text in _texts(value_at(data, path)))
    found = set(_capped(fields, MAX_DATA_WORDS))
    if status in _FINAL or between_attempts:
        found |= set(words_of(status_msg, MAX_MESSAGE_WORDS))
    if result is not None:
        found |= set(_capped(_texts(result), MAX_RESULT_WORDS))
    return frozenset(found)


def query_words(q: str) -> tuple[str, ...]:
    """The words a search asks for, all required; InvalidSearch says what is wrong with ``q``."""
    if len(q) > MAX_QUERY_CHARS:
        raise InvalidSearch(f"The search is {len(q)} characters; it can be at most {MAX_QUERY_CHARS}")
    words = tuple(words_of(q, MAX_QUERY_WORDS + 1))
    if not words:
        raise InvalidSearch(
            f"The search has no word to look for: words are letters and digits, {MIN_WORD_CHARS} or more"
        )
    if len(words) > MAX_QUERY_WORDS:
        raise InvalidSearch(f"The search has more than {MAX_QUERY_WORDS} words, the most it can have")
    return words


def driving_word(words: Sequence[str]) -> str:
    """The word whose entries a search reads: the longest (a cheap stand-in for the rarest)."""
    return max(words, key=lambda word: (len(word), word))


def searchable_problems(searchable: Any) -> list[str]:
    """What is wrong with a declaration's ``searchable``, each saying what to change."""
    if not isinstance(searchable, list | tuple) or not all(isinstance(path, str) for path in searchable):
        return ['searchable must be a list of data field names (dotted paths): ("text", "customer.name")']
    found = []
    if len(searchable) > MAX_SEARCHABLE_FIELDS:
        found.append(f"searchable names {len(searchable)} fields; at most {MAX_SEARCHABLE_FIELDS}")
    wrong = [path for path in searchable if not SEARCHABLE_PATH.match(path)]
    if wrong:
        found.append(
            f"searchable field {wrong[0]!r} must be a data field name, or names joined by '.' "
            "(letters, digits, '_' and '-')"
        )
    if len(set(searchable)) != len(searchable):
        found.append("searchable names a field twice")
    return found
