"""A realm's change feed: `GET <base>/api/realms/<uuid>/events/`, its audit trail oldest first, page after page.

For consumers outside the process (a SIEM, a second system, a script) that must see every identity change exactly
once. The guarantee, and why it holds:

- Events are served in the order (txid, id): the transaction that wrote them, then their id. On PostgreSQL `txid` is
  set by a BEFORE INSERT trigger (migration realms.0005) to the writing transaction's id; on SQLite, by an AFTER
  INSERT trigger, to the event's id: the order is the ids', which is commit order there (one writer at a time).
- Ids are taken at INSERT time but transactions commit in any order: a reader paging by id alone would pass an
  event of a transaction that commits later with a smaller id, and never see it. So on PostgreSQL a page holds only
  events of transactions older than every transaction still running (`txid < pg_snapshot_xmin(...)`, read in the
  page's own statement): no such transaction can commit anything any more, so nothing can ever appear before the
  last event served. An event is served once the transactions older than its own have all ended (a long
  transaction holds the feed back while it runs; it never makes it skip).
- The cursor is the (txid, id) of the last event served: reading from it returns exactly the events after it.

Transaction ids are taken at a transaction's first write. A SCIM write to a resource is one statement, or a
transaction whose first write locks the resource's row: the events of one resource come in the order they were
committed. (A transaction that wrote something else before it waited for that lock comes in the order of its
first write.)
"""

from __future__ import annotations

import base64
import binascii
import datetime
import re
import zlib
from typing import Any, NamedTuple

import django_filters
from django import forms
from django.db import connection
from django.db.models import BigIntegerField, F, Func, QuerySet, Value
from django.db.models.lookups import GreaterThan, LessThanOrEqual
from django.utils.dateparse import parse_date, parse_datetime
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.permissions import BasePermission
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.response import Response
from rest_framework.views import APIView

from .. import urls_helpers
from ..authentication import APITokenAuthentication
from ..datetimes import aware, for_db
from ..models import AuditEvent, Realm
from .base import ManagementSchema, UTCDateTimeField

PERMISSION = "realms.view_realmuser"
DEFAULT_LIMIT = 100
MAX_LIMIT = 1000
NO_REALM = "No realm at this URL."
BIGINT_MAX = 2**63 - 1

# ------------------------------------------------------------------------------------------------------- the cursor


class Position(NamedTuple):
    """Where a reader is in a realm's feed: the (txid, id) of the last event it was given."""

    txid: int
    id: int


_CURSOR = re.compile(r"1\.(\d{1,19})\.(\d{1,19})\.([0-9a-f]{8})")


def _checksum(realm_pk: Any, txid: int, pk: int) -> str:
    return f"{zlib.crc32(f'{realm_pk}.{txid}.{pk}'.encode()):08x}"


def encode_cursor(realm_pk: Any, position: Position) -> str:
    """The opaque cursor of `position` in this realm's feed (URL-safe).

    It holds no secret (the position itself is not one: the token may read the whole feed) and is not signed, so
    rotating SECRET_KEY never invalidates a consumer's stored cursor. A checksum over the realm and the position
    refuses a cursor that was edited, truncated, or copied from another realm's feed."""
    text = f"1.{position.txid}.{position.id}.{_checksum(realm_pk, *position)}"
    return base64.urlsafe_b64encode(text.encode()).decode().rstrip("=")


def decode_cursor(realm_pk: Any, cursor: str) -> Position:
    """The position a cursor of this realm's feed names; a 400 ValidationError for anything else."""
    invalid = ValidationError(
        {"cursor": ["Invalid cursor: use a cursor or a `next` URL given by this realm's feed, unchanged."]}
    )
    try:
        text = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode("ascii")
    except (binascii.Error, ValueError):
        raise invalid from None
    match = _CURSOR.fullmatch(text)
    if match is None:
        raise invalid
    txid, pk = int(match[1]), int(match[2])
    if txid > BIGINT_MAX or pk > BIGINT_MAX or match[3] != _checksum(realm_pk, txid, pk):
        raise invalid
    return Position(txid, pk)


# ---------------------------------------------------------------------------------------------------------- filters


class ISODateTimeField(forms.Field):
    """An ISO 8601 date-time (`2026-12-06T01:30:00Z`, an offset, or none: the host's time zone) or a date (its
    midnight)."""

    default_error_messages = {
        "invalid": "Enter an ISO 8601 date-time such as 2026-12-06T01:30:00Z, or a date such as 2026-12-06.",
    }

    def to_python(self, value: Any) -> datetime.datetime | None:
        if value in self.empty_values:
            return None
        text = str(value).strip()
        try:
            parsed = parse_datetime(text)
            if parsed is None:
                day = parse_date(text)
                parsed = None if day is None else datetime.datetime.combine(day, datetime.time())
        except ValueError:  # well formed but impossible, e.g. month 13
            parsed = None
        if parsed is None:
            raise forms.ValidationError(self.error_messages["invalid"], code="invalid")
        return for_db(aware(parsed))


class TimeFilter(django_filters.Filter):
    field_class = ISODateTimeField


class TypesField(forms.MultipleChoiceField):
    """Several types, as repeated parameters (`type=a&type=b`), comma-separated (`type=a,b`), or both."""

    def to_python(self, value: Any) -> list[str]:
        return [part.strip() for item in super().to_python(value) for part in item.split(",") if part.strip()]


class TypesFilter(django_filters.MultipleChoiceFilter):
    field_class = TypesField


class EventFilter(django_filters.FilterSet):
    """The feed's filters. Time is the time the change was recorded: after is inclusive and before exclusive, so
    consecutive windows neither overlap nor leave a gap."""

    type = TypesFilter(field_name="action", choices=AuditEvent.Action.choices, distinct=False)
    after = TimeFilter(field_name="created_at", lookup_expr="gte")
    before = TimeFilter(field_name="created_at", lookup_expr="lt")
    resource_type = django_filters.CharFilter(field_name="resource_type", max_length=16)
    resource_id = django_filters.CharFilter(field_name="resource_id", max_length=64)

    class Meta:
        model = AuditEvent
        fields: list[str] = []


PARAMETERS = frozenset({"cursor", "limit", *EventFilter.base_filters})


# ----------------------------------------------------------------------------------------------- the representation


class ResourceSerializer(serializers.Serializer):
    type = serializers.CharField(source="resource_type")
    id = serializers.CharField(source="resource_id")
    repr = serializers.CharField(source="resource_repr")


class ActorSerializer(serializers.Serializer):
    username = serializers.CharField(source="actor_username", help_text="Who made the change; empty: the system.")
    token_hint = serializers.CharField(help_text="Last characters of the API token used; empty without a token.")
    source = serializers.CharField(help_text="scim, console, admin, saml, command…")


class EventSerializer(serializers.Serializer):
    """One identity change of the realm, as the audit trail recorded it."""

    id = serializers.IntegerField()
    cursor = serializers.SerializerMethodField(help_text="Read from here to get the changes after this one.")
    type = serializers.CharField(source="action", help_text="What changed, e.g. user.created.")
    resource = ResourceSerializer(source="*")
    changes = serializers.JSONField(help_text='What changed, e.g. {"title": {"old": "a", "new": "b"}}, by type.')
    actor = ActorSerializer(source="*")
    realm = serializers.UUIDField(source="realm_id")
    time = UTCDateTimeField(source="created_at", help_text="When the change was recorded (UTC).")

    def get_cursor(self, event: AuditEvent) -> str:
        return encode_cursor(event.realm_id, Position(event.txid, event.pk))


class EventPageSerializer(serializers.Serializer):
    """A page of the feed."""

    results = EventSerializer(many=True)
    next = serializers.URLField(help_text="Read the changes after this page here, now or later; never empty.")
    has_more = serializers.BooleanField(help_text="Whether more changes can be read right away from `next`.")


# ---------------------------------------------------------------------------------------------------- the endpoint


class RowValue(Func):
    """A row value, `(a, b)`: compared to another, column by column (PostgreSQL; SQLite 3.15+)."""

    function = ""
    output_field = BigIntegerField()


class SnapshotXmin(Func):
    """PostgreSQL 13+: the oldest transaction still running when the statement's snapshot was taken; every
    transaction with a smaller id has ended (committed or rolled back)."""

    template = "pg_snapshot_xmin(pg_current_snapshot())::text::bigint"
    output_field = BigIntegerField()


def events_after(realm_pk: Any, position: Position | None, until: Position | None = None) -> QuerySet[AuditEvent]:
    """The realm's events after `position` (all of them without one) and up to `until`, in feed order. Without
    `until`, those that no transaction can precede any more; `until` must be one of those (see `last_position`)."""
    queryset = AuditEvent.objects.filter(realm_id=realm_pk)
    # Row-value comparisons: a range of the (realm, txid, id) index on both databases (an OR of the two columns was
    # a scan of the realm's events on SQLite).
    row = RowValue(F("txid"), F("id"))
    if position is not None:
        queryset = queryset.filter(GreaterThan(row, RowValue(Value(position.txid), Value(position.id))))
    if until is not None:
        queryset = queryset.filter(LessThanOrEqual(row, RowValue(Value(until.txid), Value(until.id))))
    elif connection.vendor == "postgresql":
        queryset = queryset.filter(txid__lt=SnapshotXmin())
    return queryset.order_by("txid", "id")


def last_position(realm_pk: Any, position: Position | None) -> Position | None:
    """Where the realm's feed ends now, if it goes beyond `position`: a filtered page that found fewer events than
    it could hold gives this as its next position, so that the next read does not go over the events the filter
    left out again (a filter that rarely matches would otherwise read more and more of the trail on every poll)."""
    last = events_after(realm_pk, position).order_by("-txid", "-id").values_list("txid", "id").first()
    return None if last is None else Position(*last)


class CanReadEvents(BasePermission):
    """The token's account holds realms.view_realmuser (or is a superuser), decided as SCIM decides: from the
    permission names read with the token, without a query."""

    message = f"This API token's account lacks the Django permission '{PERMISSION}' needed to read the change feed."

    def has_permission(self, request: Request, view: Any) -> bool:
        user = request.user
        if user is None or not user.is_authenticated or not user.is_active:
            return False
        if getattr(user, "is_superuser", False):
            return True
        names = getattr(request.auth, "permission_names", None)
        return user.has_perm(PERMISSION) if names is None else PERMISSION in names


class RealmEventsView(APIView):
    """`GET <base>/api/realms/<uuid>/events/`: a page of the realm's changes, oldest first (docs/api.md).

    Query parameters: `cursor` (from a page's `next` or an event's `cursor`; none: from the first change),
    `limit` (1 to 1000, default 100), `type` (an event type; several: repeated or comma-separated), `after` and
    `before` (ISO 8601; after inclusive, before exclusive), `resource_type`, `resource_id`. Any other parameter,
    a bad value or a bad cursor is a 400 naming the parameter. The answer: `results`, `next` (the URL to read the
    changes after this page, now or later: it is never empty) and `has_more` (whether more changes can be read
    right away).
    """

    # Declared here, not taken from the host's REST_FRAMEWORK defaults (which may name other classes). Not rate
    # limited, as the management API (SCIM's limit is the SCIM layer's; realms never imports scim).
    # API tokens (Bearer), as SCIM; and the console's session, as the management API (GET only: no CSRF at stake).
    authentication_classes = [APITokenAuthentication, SessionAuthentication]
    permission_classes = [CanReadEvents]
    renderer_classes = [JSONRenderer]
    parser_classes: list = []  # GET only: no body
    content_negotiation_class = DefaultContentNegotiation
    throttle_classes: list = []
    versioning_class = None
    schema = ManagementSchema()
    openapi = {
        "get": {
            "description": "A page of the realm's identity changes, oldest first, and the cursor to read on "
            "(docs/api.md, 'The change feed'). Needs realms.view_realmuser.",
            "responses": {200: EventPageSerializer},
            "parameters": [
                OpenApiParameter("cursor", str, description="From a page's `next` or an event's `cursor`."),
                OpenApiParameter("limit", int, description="Events per page, 1 to 1000 (100)."),
                OpenApiParameter("type", str, description="Event types, repeated or comma-separated."),
                OpenApiParameter("after", str, description="ISO 8601: changes at or after this time."),
                OpenApiParameter("before", str, description="ISO 8601: changes before this time."),
                OpenApiParameter("resource_type", str, description="User or Group."),
                OpenApiParameter("resource_id", str, description="The SCIM id of one user or group."),
            ],
        }
    }

    def get(self, request: Request, realm_pk: Any) -> Response:
        token_realm = getattr(request.auth, "realm_id", None)
        # A token restricted to another realm learns nothing about this one, not even that it exists (as SCIM).
        if (token_realm is not None and token_realm != realm_pk) or not Realm.objects.filter(pk=realm_pk).exists():
            raise NotFound(NO_REALM)
        params = request.query_params
        unknown = sorted(set(params) - PARAMETERS)
        if unknown:
            raise ValidationError({name: ["Unknown parameter."] for name in unknown})
        position = decode_cursor(realm_pk, params["cursor"]) if params.get("cursor") else None
        limit = self._limit(params.get("limit"))
        filterset = EventFilter(params, queryset=AuditEvent.objects.none())
        if not filterset.is_valid():
            raise ValidationError(filterset.errors)
        if any(value not in (None, "", []) for value in filterset.form.cleaned_data.values()):
            # Filtered: first where the feed ends now (one read of the index), then the matching events up to it.
            end = last_position(realm_pk, position)
            queryset = AuditEvent.objects.none() if end is None else events_after(realm_pk, position, until=end)
        else:
            end, queryset = None, events_after(realm_pk, position)
        events = list(filterset.filter_queryset(queryset)[: limit + 1])
        has_more = len(events) > limit
        events = events[:limit]
        if events and (has_more or end is None):
            position = Position(events[-1].txid, events[-1].pk)
        elif end is not None:
            position = end
        page = {"results": events, "next": self._next_url(request, realm_pk, position), "has_more": has_more}
        return Response(EventPageSerializer(page).data)

    @staticmethod
    def _limit(value: str | None) -> int:
        if value is None or value == "":
            return DEFAULT_LIMIT
        if not re.fullmatch(r"[0-9]{1,4}", value) or not 1 <= int(value) <= MAX_LIMIT:
            raise ValidationError({"limit": [f"Enter a whole number from 1 to {MAX_LIMIT}."]})
        return int(value)

    @staticmethod
    def _next_url(request: Request, realm_pk: Any, position: Position | None) -> str:
        query = request.query_params.copy()
        query.pop("cursor", None)
        if position is not None:
            query["cursor"] = encode_cursor(realm_pk, position)
        encoded = query.urlencode()
        return urls_helpers.absolute(request.path + (f"?{encoded}" if encoded else ""), request)
