"""django-filter FilterSets of the console's lists: realm users, realm groups, the SCIM activity and requests.

Each filter compiles to one SQL query over indexed columns where it can (userName, externalId, active, displayName,
audit events by realm and time); searches are substring matches limited to one realm that ignore letter case and
accents on both databases (realms.sql.search).
"""

from __future__ import annotations

import uuid

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db.models import Exists, F, OuterRef, Q, QuerySet

from ..models import AuditEvent, Realm, RealmEmail, RealmGroup, RealmUser
from ..sql.search import Folded, fold

YES_NO = [("yes", "Yes"), ("no", "No")]
GROUP_CHOICES_SHOWN = 200  # a realm with more groups still filters by any of them (?group=<id>), the menu stops here


def folded_ordering(*fields: str) -> list:
    """Order by names as people read them: "åsa" and "émile" with the a's and e's, not after "zoé" (the console's
    search folding, realms.sql.search: the same order on SQLite and PostgreSQL), the exact value breaking ties."""
    ordering: list = []
    for field in fields:
        name = field.lstrip("-")
        folded = Folded(F(name))
        ordering += [folded.desc() if field.startswith("-") else folded.asc(), field]
    return ordering


class TiebreakOrderingFilter(django_filters.OrderingFilter):
    """Orders by the chosen column, then by id, so pages never repeat or skip a row when values tie. Text columns
    named in `folded` sort ignoring letter case and accents (folded_ordering)."""

    def __init__(self, *args, default: str, folded: tuple[str, ...] = (), **kwargs) -> None:
        super().__init__(*args, **kwargs)
        self.default = default
        self.folded = folded

    def filter(self, qs: QuerySet, value):
        ordering = [self.get_ordering_value(param) for param in value or []] or [self.default]
        expressions: list = []
        for field in ordering:
            expressions += folded_ordering(field) if field.lstrip("-") in self.folded else [field]
        return qs.order_by(*expressions, "id")


def search_filter(placeholder: str, label: str = "Search") -> django_filters.CharFilter:
    widget = forms.TextInput(attrs={"type": "search", "placeholder": placeholder, "aria-label": label})
    return django_filters.CharFilter(method="search", label=label, widget=widget)


class RealmUserFilter(django_filters.FilterSet):
    q = search_filter("userName, name, email, externalId or SCIM id")
    active = django_filters.ChoiceFilter(
        choices=[("yes", "Active"), ("no", "Inactive")],
        method="filter_active",
        empty_label="Active or not",
        label="Active",
    )
    group = django_filters.ModelChoiceFilter(
        queryset=RealmGroup.objects.none(), method="filter_group", empty_label="Any group", label="Group"
    )
    external_id = django_filters.ChoiceFilter(
        choices=[("yes", "With externalId"), ("no", "Without externalId")],
        method="filter_external_id",
        empty_label="externalId or not",
        label="externalId",
    )
    o = TiebreakOrderingFilter(
        fields=[
            ("username", "username"),
            ("family_name", "family_name"),
            ("created_at", "created"),
            ("updated_at", "updated"),
        ],
        field_labels={
            "username": "userName",
            "family_name": "Family name",
            "created_at": "Created",
            "updated_at": "Updated",
        },
        default="username",
        folded=("username", "family_name"),
        label="Sort",
        empty_label="Sort by userName",
    )

    class Meta:
        model = RealmUser
        fields: list[str] = []

    def __init__(self, data=None, queryset=None, *, realm: Realm, **kwargs) -> None:
        super().__init__(data, queryset, **kwargs)
        self.realm = realm
        groups = RealmGroup.objects.filter(realm=realm).order_by("display_name", "id")
        field = self.filters["group"].field
        field.queryset = groups
        shown = [(str(pk), name) for pk, name in groups.values_list("pk", "display_name")[:GROUP_CHOICES_SHOWN]]
        selected = (data or {}).get("group")
        if selected and selected not in {pk for pk, _ in shown}:
            match = groups.filter(pk=selected).values_list("pk", "display_name").first() if is_uuid(selected) else None
            if match:
                shown.append((str(match[0]), match[1]))
        field.widget.choices = [("", "Any group"), *shown]

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return search_users(qs, value)

    def filter_active(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return qs.filter(active=(value == "yes"))

    def filter_group(self, qs: QuerySet, name: str, value: RealmGroup) -> QuerySet:
        return qs.filter(memberships__group=value)

    def filter_external_id(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        present = Q(external_id__isnull=False) & ~Q(external_id="")
        return qs.filter(present) if value == "yes" else qs.exclude(present)


class RealmGroupFilter(django_filters.FilterSet):
    q = search_filter("displayName, externalId or SCIM id")
    o = TiebreakOrderingFilter(
        fields=[("display_name", "name"), ("created_at", "created"), ("updated_at", "updated")],
        field_labels={"display_name": "displayName", "created_at": "Created", "updated_at": "Updated"},
        default="display_name",
        label="Sort",
        empty_label="Sort by displayName",
    )

    class Meta:
        model = RealmGroup
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """displayName or externalId containing `value`, ignoring case and accents, or the group's SCIM id."""
        value = value.strip()
        if not value:
            return qs
        term = fold(value)
        qs = qs.alias(f_display=Folded("display_name"), f_external=Folded("external_id"))
        condition = Q(f_display__contains=term) | Q(f_external__contains=term)
        if is_uuid(value):
            condition |= Q(pk=uuid.UUID(value))
        return qs.filter(condition)


class GroupMemberFilter(django_filters.FilterSet):
    """Search within one group's members (a group of 10,000 members is paged and searched in the database)."""

    q = search_filter("userName, name, email, externalId or SCIM id", label="Search members")

    class Meta:
        model = RealmUser
        fields: list[str] = []

    def search(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        return search_users(qs, value)


DATETIME_WIDGET = forms.DateTimeInput(attrs={"type": "datetime-local"}, format="%Y-%m-%dT%H:%M")


class AuditEventFilter(django_filters.FilterSet):
    realm = django_filters.ModelChoiceFilter(queryset=Realm.objects.order_by("name"), empty_label="Any realm")
    actor = django_filters.ModelChoiceFilter(
        queryset=lambda request: (
            get_user_model()
            .objects.filter(realms_service_account__isnull=False)
            .order_by(get_user_model().USERNAME_FIELD)
        ),
        empty_label="Any service account",
        label="Service account",
    )
    action = django_filters.ChoiceFilter(choices=AuditEvent.Action.choices, empty_label="Any action")
    resource_type = django_filters.ChoiceFilter(
        choices=[("User", "Users"), ("Group", "Groups")], empty_label="Users and groups", label="Resource type"
    )
    resource = django_filters.CharFilter(method="filter_resource", label="Resource (name or SCIM id)")
    since = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="gte", widget=DATETIME_WIDGET, label="From"
    )
    until = django_filters.DateTimeFilter(
        field_name="created_at", lookup_expr="lt", widget=DATETIME_WIDGET, label="Until"
    )

    class Meta:
        model = AuditEvent
        fields: list[str] = []

    def filter_resource(self, qs: QuerySet, name: str, value: str) -> QuerySet:
        """A SCIM id finds a resource's whole history, even after renames; anything else searches names."""
        value = value.strip()
        if not value:
            return qs
        if is_uuid(value):
            from .activity import involving, with_changes_text

            # A user's history includes the group membership changes that added or removed it (none before the
            # user existed: the scan of membership events starts at its creation when it still exists).
            resource_id = uuid.UUID(value)
            since = RealmUser.objects.filter(pk=resource_id).values_list("created_at", flat=True).first()
            return with_changes_text(qs).filter(involving(resource_id, since))
        return qs.filter(resource_repr__icontains=value)


def search_users(qs: QuerySet, value: str) -> QuerySet:
    """userName, names, emails and externalId containing `value`, ignoring case and accents ("MULLER" finds
    "Müller", realms.sql.search), or the user whose SCIM id it is. Emails through an EXISTS: no duplicate rows."""
    value = value.strip()
    if not value:
        return qs
    term = fold(value)
    qs = qs.alias(
        f_username=Folded("username"),
        f_given=Folded("given_name"),
        f_family=Folded("family_name"),
        f_display=Folded("display_name"),
        f_external=Folded("external_id"),
    )
    emails = RealmEmail.objects.alias(f_value=Folded("value")).filter(user=OuterRef("pk"), f_value__contains=term)
    condition = (
        Q(f_username__contains=term)
        | Q(f_given__contains=term)
        | Q(f_family__contains=term)
        | Q(f_display__contains=term)
        | Q(f_external__contains=term)
        | Exists(emails)
    )
    if is_uuid(value):
        condition |= Q(pk=uuid.UUID(value))
    return qs.filter(condition)


def is_uuid(value: str) -> bool:
    try:
        uuid.UUID(str(value))
    except ValueError:
        return False
    return True
