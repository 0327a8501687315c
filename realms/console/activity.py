"""The SCIM activity page: the audit events of SCIM writes, filtered, each showing what changed."""

from __future__ import annotations

import datetime
import json
import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.db.models import Q, QuerySet, TextField
from django.db.models.functions import Cast
from django.views.generic import ListView

from ..models import AuditEvent
from .filters import AuditEventFilter, is_uuid
from .mixins import ConsoleMixin

MEMBERS_SHOWN = 20  # a membership change lists its first members; the rest expand on demand
MEMBERS_EXPANDED = 1000  # and at most this many in the page (a replace of 70,000 members is one event)
VALUE_CHARS = 300
CLOCK_MARGIN = datetime.timedelta(minutes=5)
CREATION_ACTIONS = {AuditEvent.Action.USER_CREATED, AuditEvent.Action.GROUP_CREATED}
DELETION_ACTIONS = {AuditEvent.Action.USER_DELETED, AuditEvent.Action.GROUP_DELETED}
# The group events whose changes may list members added or removed (realms.services.identities); a deleted
# group's event lists the members it had, removed with it.
MEMBERSHIP_ACTIONS = [
    AuditEvent.Action.GROUP_CREATED,
    AuditEvent.Action.GROUP_UPDATED,
    AuditEvent.Action.GROUP_MEMBERS_CHANGED,
    AuditEvent.Action.GROUP_DELETED,
]
# The attributes a creation's one-line summary names first, when present.
SUMMARY_ATTRIBUTES = ("userName", "displayName", "externalId")


@dataclass
class ChangeRow:
    attribute: str
    old: str
    new: str


@dataclass
class MemberChange:
    label: str
    members: list[dict[str, str]]  # shown at once
    more_members: list[dict[str, str]] = field(default_factory=list)  # shown when expanded
    hidden: int = 0  # beyond what a page shows

    @property
    def more(self) -> int:
        return len(self.more_members) + self.hidden

    @property
    def total(self) -> int:
        return len(self.members) + self.more


@dataclass
class ChangeSummary:
    rows: list[ChangeRow] = field(default_factory=list)
    members: list[MemberChange] = field(default_factory=list)
    creation: bool = False  # a creation: one line, its attributes expand
    deletion: bool = False  # a deletion: one line too, the attributes it had expand
    # In a user's history, what a group's event did to that user: "added", "removed", "removed_with_group".
    focus: str = ""
    fallback: str = ""  # an event recorded without its changes (before they were kept): what it was

    def __bool__(self) -> bool:
        return bool(self.rows or self.members or self.focus)

    @property
    def collapsed(self) -> bool:
        return self.creation or self.deletion

    @property
    def headline(self) -> str:
        """A creation or deletion in one line: its identifying attributes, and how many were set (or removed)."""
        named = {row.attribute: row.old if self.deletion else row.new for row in self.rows}
        parts = [f"{name} {named[name]}" for name in SUMMARY_ATTRIBUTES if name in named]
        count = len(self.rows)
        parts.append(f"{count} attribute{'s' if count != 1 else ''}{' removed' if self.deletion else ''}")
        return " · ".join(parts)


def _format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def _member_change(label: str, members: list[dict[str, str]]) -> MemberChange:
    expanded = members[MEMBERS_SHOWN:MEMBERS_EXPANDED]
    return MemberChange(label, members[:MEMBERS_SHOWN], expanded, max(0, len(members) - MEMBERS_EXPANDED))


def describe_changes(changes: Any, action: str = "", focus_id: str = "") -> ChangeSummary:
    """Turn an event's `changes` ({attr: {old, new}}, {"members": {added, removed}}) into rows a page can show.

    `focus_id`: the user whose history this is; a group's membership change then says what it did to that user."""
    deletion = action in DELETION_ACTIONS
    summary = ChangeSummary(creation=action in CREATION_ACTIONS, deletion=deletion)
    if isinstance(changes, dict):
        for attribute, change in changes.items():
            if attribute == "members" and isinstance(change, dict) and ({"added", "removed"} & set(change)):
                labels = (
                    ("added", "Members added"),
                    ("removed", "Members removed with the group" if deletion else "Members removed"),
                )
                for key, label in labels:
                    members = [m for m in change.get(key) or [] if isinstance(m, dict)]
                    if focus_id and any(str(m.get("id")) == focus_id for m in members):
                        summary.focus = "removed_with_group" if deletion and key == "removed" else key
                    elif members and not focus_id:
                        summary.members.append(_member_change(label, members))
            elif isinstance(change, dict) and ("old" in change or "new" in change):
                # An attribute absent before (a creation) shows its new value only; one removed (new None), its
                # old value struck out and "removed".
                old = "" if change.get("old") is None else _format_value(change.get("old"))
                new = "" if change.get("new") is None and old else _format_value(change.get("new"))
                summary.rows.append(ChangeRow(attribute, old, new))
            else:
                summary.rows.append(ChangeRow(attribute, "", _format_value(change)))
    if not summary and not focus_id:
        summary.fallback = FALLBACKS.get(action, "no detail recorded")
    return summary


# What an event recorded without changes was (rows written before every event kept what it changed).
FALLBACKS = {
    AuditEvent.Action.USER_DELETED: "deleted; its attributes were not recorded",
    AuditEvent.Action.GROUP_DELETED: "deleted; its members were not recorded",
    AuditEvent.Action.CONSOLE_USER_REACTIVATED: "active: false → true",
}


def attach_changes(events: Iterable[AuditEvent], focus_id: Any = None) -> list[AuditEvent]:
    events = list(events)
    focus = str(focus_id) if focus_id is not None else ""
    for event in events:
        is_other_resource = focus and event.resource_id != focus
        event.change_summary = describe_changes(event.changes, event.action, focus if is_other_resource else "")
    return events


def involving(resource_id: Any, since: Any = None) -> Q:
    """The events of a resource, and for a user, the group membership changes that added or removed it (found in
    their recorded members: {"id": "<user id>", …})."""
    condition = Q(resource_id=str(resource_id))
    memberships = Q(resource_type="Group", action__in=MEMBERSHIP_ACTIONS, changes_text__contains=f'"{resource_id}"')
    if since is not None:  # a margin for clocks of app servers that disagree a little
        memberships &= Q(created_at__gte=since - CLOCK_MARGIN)
    return condition | memberships


def with_changes_text(queryset: QuerySet) -> QuerySet:
    """`changes` as text, for `involving()`: the same JSON text search on SQLite and PostgreSQL."""
    return queryset.alias(changes_text=Cast("changes", TextField()))


class SCIMActivityView(ConsoleMixin, ListView):
    """Every identity change pushed over SCIM, newest first; filters narrow it to a realm, an account, a resource."""

    permission_required = "realms.view_auditevent"
    template_name = "realms/activity.html"
    paginate_by = 50
    section = "activity"

    def get_queryset(self):
        queryset = AuditEvent.objects.select_related("realm", "actor__realms_service_account")
        queryset = queryset.order_by("-created_at", "-id")
        self.filterset = AuditEventFilter(self.request.GET or None, queryset=queryset)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return queryset.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["filtered"] = any(v for k, v in self.request.GET.items() if k != "page")
        resource = self.filterset.form.cleaned_data.get("resource") if self.filterset.is_bound else None
        focus = uuid.UUID(resource) if resource and is_uuid(resource) else None
        context["events"] = attach_changes(context["page_obj"].object_list, focus_id=focus)
        return context

    def get_breadcrumbs(self):
        return [("SCIM activity", None)]
