"""Paging (RFC 7644 §3.4.2.4): one page of ordered results in one query, a deep page of an unfiltered list without
reading the rows it skips (benchmarks/scale.py: a page at 100k users costs what it costs at 1k)."""

from __future__ import annotations

import bisect
import threading
from collections import OrderedDict
from typing import Any

from django.db.models import Exists, Q


class _PageStarts:
    """Where the pages of a realm's unfiltered lists start, in this process: for (model, realm, moved), the
    (created_at, id) of the n-th resource in the default order, for the positions n pages have ended at.
    `moved` is RealmCounts.users_moved or groups_moved, which the database's triggers move with every change that
    may move the position of a row that stays (realms migration 0006): a row inserted or deleted before another.
    While it stays, the list only gains rows at its end and loses its last rows, so a remembered row still in the
    list is still at its position (`page` checks that it is). Bounded: the most recently used lists, each of a
    bounded number of positions."""

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

    def forget(self, key: tuple, position: int) -> None:
        """Forget the positions from `position` on: the row remembered there is gone (the list's last rows were
        deleted), and so, most likely, are those remembered after it."""
        with self._lock:
            found = self._lists.get(key)
            if found is None:
                return
            positions, keys = found
            i = bisect.bisect_left(positions, position)
            for dropped in positions[i:]:
                del keys[dropped]
            del positions[i:]


_PAGE_STARTS = _PageStarts(lists=16, positions=2048)  # at most about 9 MiB per worker (measured)


def _after(position: tuple) -> Q:
    """Resources after (created_at, id) in the default order: `(created_at, id) > position`, written so that the
    first condition alone is a range of the (realm, created_at, id) index and the rest only drops the ties."""
    created_at, pk = position
    return Q(created_at__gte=created_at) & (Q(created_at__gt=created_at) | Q(pk__gt=pk))


def page(
    queryset: Any, ordering: list, start_index: int, count: int, *, known: tuple | None = None, inline: Any = None
) -> list[Any]:
    """One page of the ordered results, in one query (rarely more: `_from_known`); `inline(qs)` annotates the rows
    with their related values (None: it does not, or returns None when it cannot).

    `known` is given for an unfiltered list in the default order: (model label, realm, RealmCounts.users_moved or
    groups_moved), which moves with every change that may move a position in the list, not with a resource created
    at its end nor with its newest resource deleted. Past its first page, the page's ids are picked first from the
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

    if known is None or not start:
        objects = list(inlined(queryset).order_by(*ordering)[start : start + count])
    else:
        objects = _from_known(queryset, ordering, start, count, known, inlined)
    if known and objects:
        _PAGE_STARTS.put(known, start + len(objects), (objects[-1].created_at, objects[-1].pk))
    return objects


_ANCHOR_HELD = "page_anchor_held"


def _from_known(queryset: Any, ordering: list, start: int, count: int, known: tuple, inlined: Any) -> list[Any]:
    """The page from the nearest known position before it (the start of the list if none): skip only the rows
    between, plus one row more, the one before the page, which says where the page starts.

    The remembered row the page starts after may have been deleted since, as the last row of the list, without
    `known` moving: what follows it in the order is then not what followed it when it was remembered (a resource
    created since comes right after it, at the position the deleted row held). So the same statement says whether
    that row is still there, and the page is read again from an earlier position when it is not (rarely: only when
    a page had ended exactly at a resource deleted since). A page that comes back empty needs no such check: had the
    remembered row been deleted, every row after it would have been created since, and fewer of them than the page
    skips means that the list ends before the page's start."""
    gone = 0
    while True:
        # After two remembered rows found gone, from the start of the list: a bounded number of queries.
        position, after = _PAGE_STARTS.nearest(known, start) if gone < 2 else (0, None)
        ids = (queryset if after is None else queryset.filter(_after(after))).order_by(*ordering).values("pk")
        skip = start - position
        rows = queryset.model.objects.filter(pk__in=ids[:count] if not skip else ids[skip - 1 : skip + count])
        if after is not None:
            # By primary key alone, so that the database probes its unique index (with the realm too, PostgreSQL
            # may pick the realm's index and read its rows); a row moved to another realm moves `known` anyway.
            created_at, pk = after
            anchor = queryset.model.objects.filter(pk=pk, created_at=created_at)
            rows = rows.annotate(**{_ANCHOR_HELD: Exists(anchor)})
        objects = list(inlined(rows).order_by(*ordering))
        if objects and after is not None and not getattr(objects[0], _ANCHOR_HELD):
            _PAGE_STARTS.forget(known, position)
            gone += 1
            continue
        if skip and objects:
            _PAGE_STARTS.put(known, start, (objects[0].created_at, objects[0].pk))
            objects = objects[1:]
        return objects
