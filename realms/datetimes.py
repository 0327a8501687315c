"""Datetimes with or without `USE_TZ`: what the apps show, render and compare, whichever the host chose.

With `USE_TZ = True` the ORM gives and takes aware datetimes (UTC from the database). With `USE_TZ = False` (a
host such as Zentral) it gives and takes naive datetimes in `TIME_ZONE`: `timezone.localtime()` raises on them,
and SQLite refuses an aware one in a query. The apps' code goes through these three functions wherever a datetime
crosses that line (a page, a SCIM representation, a value parsed from a request), so both settings work.
"""

from __future__ import annotations

import datetime

from django.conf import settings
from django.utils import timezone


def aware(value: datetime.datetime) -> datetime.datetime:
    """`value` as an aware datetime: a naive one (from the ORM when USE_TZ is off) is in the default time zone."""
    if timezone.is_aware(value):
        return value
    return timezone.make_aware(value, timezone.get_default_timezone())


def local(value: datetime.datetime) -> datetime.datetime:
    """`value` in the current time zone, aware, for display (what `timezone.localtime()` does under USE_TZ)."""
    return timezone.localtime(aware(value))


def utc(value: datetime.datetime) -> datetime.datetime:
    """`value` in UTC, aware: for timestamps given to other systems (SCIM `meta`, API representations)."""
    return aware(value).astimezone(datetime.UTC)


def for_db(value: datetime.datetime) -> datetime.datetime:
    """An aware datetime as the ORM compares it with a DateTimeField: itself under USE_TZ, else naive in the
    default time zone (the zone naive values are stored in)."""
    if settings.USE_TZ or timezone.is_naive(value):
        return value
    return timezone.make_naive(value, timezone.get_default_timezone())
