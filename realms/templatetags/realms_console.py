"""Template filters of the console pages: one timestamp format everywhere, durations in words."""

from __future__ import annotations

import datetime
from typing import Any

from django import template
from django.shortcuts import resolve_url
from django.urls import NoReverseMatch, reverse
from django.utils import dateformat, timezone
from django.utils.html import format_html
from django.utils.timesince import timesince, timeuntil

from ..conf import app_settings
from ..datetimes import aware, local

register = template.Library()

TIMESTAMP_FORMAT = "Y-m-d H:i:s T"  # 2026-11-29 20:25:03 UTC: sortable, unambiguous, with its time zone


@register.filter
def when(value: Any) -> str:
    """A timestamp in the current time zone, with the zone's name shown and how long ago (or until) as a tooltip.

    Every console page shows times this one way: an Okta admin compares them with Okta's own task log, so the zone
    must be on the page, not guessed."""
    if not isinstance(value, datetime.datetime):
        return "" if value in (None, "") else str(value)
    moment = local(value)  # a naive value (USE_TZ = False) is in TIME_ZONE
    now = aware(timezone.now())
    relative = f"in {timeuntil(moment, now)}" if moment > now else f"{timesince(moment, now)} ago"
    text = dateformat.format(moment, TIMESTAMP_FORMAT)
    return format_html('<time datetime="{}" title="{}">{}</time>', moment.isoformat(), relative, text)


# The log-out views of the hosts the apps meet: Django's LogoutView as `startproject` tutorials name it, django-allauth
# (cookiecutter-django), and the admin's, for a host whose only login is the admin's. All log out on a POST.
LOGOUT_URL_NAMES = ("logout", "account_logout", "admin:logout")


@register.simple_tag
def realms_logout_url() -> str:
    """Where the standalone top bar's "Log out" form POSTs: REALMS["LOGOUT_URL"], else the first log-out URL name
    the host's URLconf has; "" when it has none (no button)."""
    configured = app_settings.LOGOUT_URL
    if configured:
        return resolve_url(configured)
    for name in LOGOUT_URL_NAMES:
        try:
            return reverse(name)
        except NoReverseMatch:
            continue
    return ""


_UNITS = (("day", 86400), ("hour", 3600), ("minute", 60), ("second", 1))


def duration_text(seconds: Any) -> str:
    """Seconds in words: 28800 → "8 hours", 93600 → "1 day 2 hours", 90 → "1 minute 30 seconds"."""
    try:
        remaining = int(seconds)
    except (TypeError, ValueError):
        return ""
    if remaining <= 0:
        return f"{remaining} seconds"
    parts = []
    for name, size in _UNITS:
        count, remaining = divmod(remaining, size)
        if count:
            parts.append(f"{count} {name}{'s' if count != 1 else ''}")
    return " ".join(parts)


@register.filter
def duration(seconds: Any) -> str:
    return duration_text(seconds)


@register.simple_tag
def page_numbers(page_obj: Any) -> list:
    """The page numbers to link around the current page: 1 … 4 5 [6] 7 8 … 20 (Paginator.ELLIPSIS between)."""
    if page_obj is None:
        return []
    return list(page_obj.paginator.get_elided_page_range(page_obj.number, on_each_side=2, on_ends=1))
