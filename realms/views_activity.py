"""The SCIM activity page: the audit events of SCIM writes, filtered, each showing what changed."""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from django.views.generic import ListView

from .filters import AuditEventFilter
from .mixins import ConsoleMixin
from .models import AuditEvent

MEMBERS_SHOWN = 20  # a membership change of 10,000 users lists the first ones and counts the rest
VALUE_CHARS = 300


@dataclass
class ChangeRow:
    attribute: str
    old: str
    new: str


@dataclass
class MemberChange:
    label: str
    members: list[dict[str, str]]
    more: int = 0


@dataclass
class ChangeSummary:
    rows: list[ChangeRow] = field(default_factory=list)
    members: list[MemberChange] = field(default_factory=list)

    def __bool__(self) -> bool:
        return bool(self.rows or self.members)


def _format_value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return "true" if value else "false"
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, sort_keys=True)
    return text if len(text) <= VALUE_CHARS else text[: VALUE_CHARS - 1] + "…"


def describe_changes(changes: Any) -> ChangeSummary:
    """Turn an event's `changes` ({attr: {old, new}}, {"members": {added, removed}}) into rows a page can show."""
    summary = ChangeSummary()
    if not isinstance(changes, dict):
        return summary
    for attribute, change in changes.items():
        if attribute == "members" and isinstance(change, dict) and ({"added", "removed"} & set(change)):
            for key, label in (("added", "Members added"), ("removed", "Members removed")):
                members = [m for m in change.get(key) or [] if isinstance(m, dict)]
                if members:
                    summary.members.append(
                        MemberChange(label, members[:MEMBERS_SHOWN], max(0, len(members) - MEMBERS_SHOWN))
                    )
        elif isinstance(change, dict) and ("old" in change or "new" in change):
            # An attribute that was absent before (a creation) shows its new value only.
            old = "" if change.get("old") is None else _format_value(change.get("old"))
            summary.rows.append(ChangeRow(attribute, old, _format_value(change.get("new"))))
        else:
            summary.rows.append(ChangeRow(attribute, "", _format_value(change)))
    return summary


def attach_changes(events: Iterable[AuditEvent]) -> list[AuditEvent]:
    events = list(events)
    for event in events:
        event.change_summary = describe_changes(event.changes)
    return events


class SCIMActivityView(ConsoleMixin, ListView):
    """Every identity change pushed over SCIM, newest first; filters narrow it to a realm, an account, a resource."""

    permission_required = "realms.view_auditevent"
    template_name = "realms/activity.html"
    paginate_by = 50
    section = "activity"

    def get_queryset(self):
        queryset = AuditEvent.objects.select_related("realm", "actor").order_by("-created_at", "-id")
        self.filterset = AuditEventFilter(self.request.GET or None, queryset=queryset)
        if self.filterset.is_bound and not self.filterset.is_valid():
            return queryset.none()
        return self.filterset.qs

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["filter"] = self.filterset
        context["filtered"] = any(v for k, v in self.request.GET.items() if k != "page")
        context["events"] = attach_changes(context["page_obj"].object_list)
        return context

    def get_breadcrumbs(self):
        return [("SCIM activity", None)]
