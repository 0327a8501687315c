"""Paging (RFC 7644 §3.4.2.4): one page of ordered results in one query, a deep page of an unfiltered list without
reading the rows it skips (benchmarks/scale.py: a page at 100k users costs what it costs at 1k)."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Any

from django.db.models import Q


class _PageStarts:
    """Where the pages of a realm's unfiltered lists start, in this process: for (model, realm, changes), the
    (created_at, id) of the n-th resource in the default order, for the positions n pages have ended at.
    `changes` is RealmCounts.changes, which moves with every insert and delete in the realm: positions are only
    found while they still hold. Bounded: the most recently used lists, each of a bounded number of positions."""

    def __init__(self, lists: int, positions: int) -> None:
        self.lists, self.positions = lists, positions
        self._lists: OrderedDict[tuple, tuple[list[int], dict[int, tuple]]] = OrderedDict()
        self._lock = threading.Lock()

    def nearest(self, key: tuple, position: int) -> tuple[int, tuple | None]:
        """The known position closest before or at `position` and its (created_at, id); (0, None) if none."""
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return 0, None
            self._lists.move_to_end(key)
            positions, keys = found
            i = bisect.bisect_right(positions, position)
            return (positions[i - 1], keys[positions[i - 1]]) if i else (0, None)

    def put(self, key: tuple, position: int, value: tuple) -> None:
        with self._lock:
            positions, keys = self._lists.setdefault(key, ([], {}))
            self._lists.move_to_end(key)
            if position not in keys:
                if len(positions) >= self.positions:  # full: start this list again
                    positions.clear()
                    keys.clear()
                bisect.insort(positions, position)
            keys[position] = value
            while len(self._lists) > self.lists:
                self._lists.popitem(last=False)


_PAGE_STARTS = _PageStarts(lists=16, positions=2048)  # at most about 9 MiB per worker (measured)


def _after(position: tuple) -> Q:
    """Resources after (created_at, id) in the default order: `(created_at, id) > position`, written so that the
    first condition alone is a range of the (realm, created_at, id) index and the rest only drops the ties."""
    created_at, pk = position
    return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(pk__gt=pk))


def page(
    queryset: Any, ordering: list, start_index: int, count: int, *, known: tuple | None = None, inline: Any = None
) -> list[Any]:
    """One page of the ordered results, in one query; `inline(qs)` annotates the rows with their related values
    (None: it does not, or returns None when it cannot).

    `known` is given for an unfiltered list in the default order: (model label, realm, RealmCounts.changes), which
    moves with every insert and delete in the realm. Past its first page, the page's ids are picked first from the
    (realm, created_at, id) index and only those rows are read: a deep page skips index entries, not rows. Better
    still, where pages start and end is remembered (_PAGE_STARTS) while `known` holds: a page then starts from the
    nearest known position before it (a keyset range of the index), so the next page of an import, or a page asked
    again, skips nothing, and a page near one already served skips only the rows between.
    """
    if not count:
        return []
    start = start_index - 1

    def inlined(qs: Any) -> Any:
        annotated = inline(qs) if inline is not None else None
        return qs if annotated is None else annotated  # never `or`: a QuerySet's truth value runs it

    def rows(ids: Any) -> list[Any]:
        return list(inlined(queryset.model.objects.filter(pk__in=ids)).order_by(*ordering))

    if known is None or not start:
        objects = list(inlined(queryset).order_by(*ordering)[start : start + count])
    else:
        # From the nearest known position before the page (the start of the list if none): skip only the rows
        # between, plus one row more, the one before the page, which says where the page starts.
        position, after = _PAGE_STARTS.nearest(known, start)
        ids = (queryset if after is None else queryset.filter(_after(after))).order_by(*ordering).values("pk")
        skip = start - position
        if not skip:
            objects = rows(ids[:count])
        else:
            objects = rows(ids[skip - 1 : skip + count])
            if objects:
                _PAGE_STARTS.put(known, start, (objects[0].created_at, objects[0].pk))
            objects = objects[1:]
    if known and objects:
        _PAGE_STARTS.put(known, start + len(objects), (objects[-1].created_at, objects[-1].pk))
    return objects
