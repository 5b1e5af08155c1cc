"""Newest first across the shards of a listing index, examining at most page + 2 x shards entries.

Every shard is sorted newest first by its sort key (``<created ms>#<id>``,
unique, so ties are broken by id). The merge reads each shard's head in one
parallel round, ``ceil(page / shards) + 1`` entries each, which is the whole
budget but ``shards`` entries. An entry is *safe* once no shard can still
hold a newer unread one: it is at least as new as every open shard's
frontier (the oldest entry read from it). The page is the safe entries,
newest first.

When the first round leaves the page short, up to ``EXTRA_ROUNDS`` more reads
go to the shard whose frontier is newest (the bottleneck), bounded below by
the next-newest frontier: every entry such a read returns is safe, so the
budget goes only to entries the page takes. A page may still come out short
of ``page`` entries, never with a gap: the cursor is the last entry returned,
valid across shards, and the next page starts below it.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass

EXTRA_ROUNDS = 4


@dataclass(frozen=True)
class ShardRead:
    """Entries one read of one shard returned, newest first, and whether it stopped at its limit.

    A filtered read (a search's) examines entries it does not return: ``last``
    is then the oldest entry it examined, where the shard's next read starts,
    and ``examined`` how many it examined.
    """

    keys: list[str]
    limited: bool
    last: str | None = None
    examined: int | None = None

    @property
    def frontier(self) -> str | None:
        return self.last or (self.keys[-1] if self.keys else None)

    @property
    def cost(self) -> int:
        return len(self.keys) if self.examined is None else self.examined


# read(shard, below, above, limit): entries of ``shard`` strictly below ``below``
# (None: from the newest) and strictly above ``above`` (None: to the oldest).
Read = Callable[[int, str | None, str | None, int], ShardRead]
# Runs one read per shard, concurrently where it can; results in shard order.
ReadAll = Callable[[list[tuple[int, str | None, str | None, int]]], list[ShardRead]]


@dataclass(frozen=True)
class MergedPage:
    keys: list[str]
    # The cursor for the next page (the last key), or None when nothing is left.
    next_below: str | None
    examined: int


def first_read_size(page: int, shards: int) -> int:
    return page + 1 if shards == 1 else math.ceil(page / shards) + 1


def merge_newest(
    shards: int, page: int, below: str | None, read_all: ReadAll, sized_for: int | None = None
) -> MergedPage:
    """The newest ``page`` entries below ``below`` across ``shards`` shards.

    ``sized_for``: the shards the first round's reads and the page's budget are sized for, when
    some of them are known to hold few entries (a retry state's partitions beside its status's).
    The budget bounds the cost, not the answer: past it, the page is shorter, never wrong.
    """
    sized_for = sized_for or shards
    budget = page + 2 * sized_for
    size = first_read_size(page, sized_for)
    reads = read_all([(shard, below, None, size) for shard in range(shards)])
    keys: list[str] = []
    frontier: dict[int, str] = {}  # open shards only: the oldest entry read (or a bound below it)
    for shard, read in enumerate(reads):
        keys.extend(read.keys)
        if read.limited and read.frontier:
            frontier[shard] = read.frontier
    examined = sum(read.cost for read in reads)

    def safe() -> list[str]:
        threshold = max(frontier.values(), default=None)
        return sorted((key for key in keys if threshold is None or key >= threshold), reverse=True)

    for _ in range(EXTRA_ROUNDS):
        ready = safe()
        need = page + 1 - len(ready)
        if need <= 0 or not frontier or examined >= budget:
            break
        bottleneck = max(frontier, key=lambda shard: frontier[shard])
        others = [key for shard, key in frontier.items() if shard != bottleneck]
        above = max(others) if others else None
        limit = min(need, budget - examined)
        (read,) = read_all([(bottleneck, frontier[bottleneck], above, limit)])
        keys.extend(read.keys)
        examined += read.cost
        if read.limited and read.frontier:
            frontier[bottleneck] = read.frontier
        elif above is not None:
            # Nothing left above ``above``: whatever the shard still holds is older.
            frontier[bottleneck] = above
        else:
            del frontier[bottleneck]  # read to its end
    ready = safe()
    chosen = ready[:page]
    if len(ready) > page:
        next_below = chosen[-1]
    elif frontier:
        # Everything down to the newest frontier was examined: a filtered read may have
        # examined entries past the last one chosen, or chosen none of them.
        next_below = max(frontier.values())
    else:
        next_below = None
    return MergedPage(chosen, next_below, examined)
