"""Newest first across shards: no gaps, no duplicates, and a bounded number of entries examined."""

from __future__ import annotations

import random

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from app.adapters.shard_merge import ShardRead, merge_newest
from app.adapters.sharding import ShardCounts, shard_of, shards_for


def shards_of(keys: list[str], count: int, rng: random.Random) -> list[list[str]]:
    shards: list[list[str]] = [[] for _ in range(count)]
    for key in sorted(keys, reverse=True):
        shards[rng.randrange(count)].append(key)
    return shards


def reader(shards: list[list[str]]):
    def read_all(requests):
        results = []
        for shard, below, above, limit in requests:
            entries = [
                k for k in shards[shard] if (below is None or k < below) and (above is None or k > above)
            ]
            results.append(ShardRead(entries[:limit], limited=len(entries) > limit))
        return results

    return read_all


def all_pages(shards: list[list[str]], page: int):
    below, pages = None, []
    while True:
        merged = merge_newest(len(shards), page, below, reader(shards))
        pages.append(merged)
        if merged.next_below is None:
            return pages
        below = merged.next_below


@pytest.mark.parametrize("count", [1, 2, 3, 4, 8, 16, 25])
def test_pages_walk_every_entry_newest_first_within_the_budget(count):
    rng = random.Random(count)
    keys = [f"{1_800_000_000_000 + i:013d}#{rng.getrandbits(32):08x}" for i in range(1500)]
    pages = all_pages(shards_of(keys, count, rng), page=20)
    walked = [key for merged in pages for key in merged.keys]
    assert walked == sorted(keys, reverse=True)
    assert max(merged.examined for merged in pages) <= 20 + 2 * count
    # A page may come out short (never empty), half full on average at the least.
    lengths = [len(merged.keys) for merged in pages[:-1]]
    assert min(lengths) >= 1 and sum(lengths) / len(lengths) >= 10


@settings(max_examples=300, derandomize=True, deadline=None)
@given(
    sizes=st.lists(st.integers(0, 40), min_size=1, max_size=6),
    page=st.integers(1, 30),
    seed=st.integers(0, 2**16),
)
def test_any_spread_of_entries_is_walked_without_gaps_or_repeats(sizes, page, seed):
    rng = random.Random(seed)
    shards = [sorted((f"{rng.getrandbits(40):012x}" for _ in range(size)), reverse=True) for size in sizes]
    everything = sorted((key for shard in shards for key in shard), reverse=True)
    if len(set(everything)) != len(everything):
        return  # keys are unique in the store (they end with the task id)
    pages = all_pages(shards, page)
    assert [key for merged in pages for key in merged.keys] == everything
    assert all(merged.examined <= page + 2 * len(shards) for merged in pages)
    assert all(len(merged.keys) <= page for merged in pages)


def test_shard_counts_grow_with_the_target_rate_and_keep_keys_under_a_partition_s_limit():
    counts = ShardCounts.for_rate(10_000)
    assert counts.by_status == shards_for(10_000, 2) == 25
    assert counts.by_created == 13
    assert 10_000 * 2 / counts.by_status <= 1000
    assert ShardCounts.for_rate(100) == ShardCounts()


def test_a_task_stays_in_its_shard_and_tasks_spread_evenly():
    ids = [f"{random.Random(i).getrandbits(128):032x}" for i in range(4000)]
    assert all(shard_of(task_id, 8) == shard_of(task_id, 8) for task_id in ids[:10])
    spread = [sum(shard_of(task_id, 8) == shard for task_id in ids) for shard in range(8)]
    assert max(spread) < 1.2 * min(spread)


def filtered_reader(shards: list[list[str]], keep):
    """Reads like a filtered Query: examines up to ``limit`` entries, returns those ``keep`` takes."""

    def read_all(requests):
        results = []
        for shard, below, above, limit in requests:
            entries = [
                k for k in shards[shard] if (below is None or k < below) and (above is None or k > above)
            ]
            examined = entries[:limit]
            limited = len(entries) > limit
            results.append(
                ShardRead(
                    [k for k in examined if keep(k)],
                    limited=limited,
                    last=examined[-1] if limited else None,
                    examined=len(examined),
                )
            )
        return results

    return read_all


@pytest.mark.parametrize(("count", "share"), [(1, 0.5), (1, 0.02), (3, 0.1), (4, 0.0), (8, 0.3)])
def test_filtered_pages_walk_every_kept_entry_even_when_a_page_keeps_none(count, share):
    """A search's reads examine entries they don't return: a page may come out empty, with a cursor."""
    rng = random.Random(count * 100 + int(share * 100))
    keys = [f"{1_800_000_000_000 + i:013d}#{rng.getrandbits(32):08x}" for i in range(600)]
    kept = {key for key in keys if rng.random() < share}
    shards = shards_of(keys, count, rng)
    below, walked, pages = None, [], 0
    while True:
        merged = merge_newest(count, 20, below, filtered_reader(shards, kept.__contains__))
        walked.extend(merged.keys)
        pages += 1
        assert merged.examined <= 20 + 2 * count + 20  # the budget, and at most one read past it
        if merged.next_below is None:
            break
        assert below is None or merged.next_below < below, "every page moves on"
        below = merged.next_below
    assert walked == sorted(kept, reverse=True)
    assert pages <= len(keys) // 10 + 2
