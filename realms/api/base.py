"""What every management API view declares for itself, so that a host's REST_FRAMEWORK defaults change nothing:
authentication, permissions, parsers, renderers, pagination, filters, the error handler and the OpenAPI schema."""

from __future__ import annotations

import datetime
import uuid
from typing import Any

from django.db.models import DateTimeField, QuerySet, Value
from django.db.models.functions import Lower
from django_filters.rest_framework import DjangoFilterBackend
from drf_spectacular.openapi import AutoSchema
from drf_spectacular.utils import OpenApiParameter
from rest_framework import serializers, status
from rest_framework.authentication import SessionAuthentication
from rest_framework.exceptions import APIException, NotFound
from rest_framework.negotiation import DefaultContentNegotiation
from rest_framework.pagination import PageNumberPagination
from rest_framework.parsers import JSONParser
from rest_framework.renderers import JSONRenderer
from rest_framework.request import Request
from rest_framework.settings import ISO_8601
from rest_framework.views import exception_handler

from ..authentication import APITokenAuthentication
from ..datetimes import for_db, utc
from ..models import Realm
from ..services import Actor
from .permissions import METHOD_ACTIONS, ModelPermission, token_realm_id


class Conflict(APIException):
    status_code = status.HTTP_409_CONFLICT
    default_detail = "The request conflicts with an existing object."
    default_code = "conflict"


class Pagination(PageNumberPagination):
    """Pages of 100 (`page_size` up to 1000), with `next` and `previous` URLs and the total `count`."""

    page_size = 100
    page_size_query_param = "page_size"
    max_page_size = 1000


PATH_PARAMETERS = {
    "ref": OpenApiParameter(
        "ref", str, OpenApiParameter.PATH, description="The realm's uuid, or its name (any letter case)."
    ),
    "account": OpenApiParameter(
        "account", str, OpenApiParameter.PATH, description="The service account's username (or its id)."
    ),
}


class UTCDateTimeField(serializers.DateTimeField):
    """ISO 8601 in UTC, e.g. 2026-12-06T01:30:00.123456Z, whatever the host's USE_TZ, TIME_ZONE and DRF
    DATETIME_FORMAT (realms.datetimes: with USE_TZ = False the ORM's naive datetimes are in TIME_ZONE). Input: ISO
    8601, UTC when it names no offset, given to the ORM as it compares and stores it (`for_db`)."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("format", ISO_8601)
        kwargs.setdefault("input_formats", [ISO_8601])
        kwargs.setdefault("default_timezone", datetime.UTC)
        super().__init__(**kwargs)

    def to_representation(self, value: Any) -> str | None:
        if not value:
            return None
        return utc(value).isoformat().replace("+00:00", "Z")

    def to_internal_value(self, value: Any) -> datetime.datetime:
        return for_db(super().to_internal_value(value))


class ManagementModelSerializer(serializers.ModelSerializer):
    """The management API's model serializers: their datetimes in UTC (UTCDateTimeField)."""

    serializer_field_mapping = {**serializers.ModelSerializer.serializer_field_mapping, DateTimeField: UTCDateTimeField}


class ManagementSchema(AutoSchema):
    """drf-spectacular's AutoSchema, completed by the view's `openapi` dict ({action: {"description",
    "responses", "request", "parameters"}}) rather than by @extend_schema, whose method decorators fall back on
    the host's DEFAULT_SCHEMA_CLASS."""

    def _overrides(self) -> dict[str, Any]:
        action = getattr(self.view, "action", None) or self.method.lower()
        return getattr(self.view, "openapi", {}).get(action, {})

    def get_override_parameters(self) -> list:
        found = [p for name, p in PATH_PARAMETERS.items() if f"{{{name}}}" in self.path]
        return [*super().get_override_parameters(), *found, *self._overrides().get("parameters", [])]

    def get_description(self) -> str:
        return self._overrides().get("description") or super().get_description()

    def get_request_serializer(self) -> Any:
        overrides = self._overrides()
        return overrides["request"] if "request" in overrides else super().get_request_serializer()

    def get_response_serializers(self) -> Any:
        return self._overrides().get("responses") or super().get_response_serializers()


class ManagementAPIMixin:
    """The management API's own settings. `permission_model` ("app_label.model") names the model whose Django
    permission each method needs (view, add, change, delete)."""

    # API tokens (Bearer), as SCIM; and the console's session, for a host's own pages (CSRF enforced by DRF).
    authentication_classes = [APITokenAuthentication, SessionAuthentication]
    permission_classes = [ModelPermission]
    parser_classes = [JSONParser]
    renderer_classes = [JSONRenderer]
    content_negotiation_class = DefaultContentNegotiation
    throttle_classes: list = []  # a configuration tool's bursts are expected; revoke a token that misbehaves
    pagination_class = Pagination
    filter_backends = [DjangoFilterBackend]
    versioning_class = None
    schema = ManagementSchema()
    openapi: dict[str, dict[str, Any]] = {}
    permission_model = ""

    def get_exception_handler(self):
        return exception_handler  # DRF's, whatever the host's EXCEPTION_HANDLER

    def required_permission(self, request: Request) -> str | None:
        action = METHOD_ACTIONS.get(request.method or "")
        if action is None:
            return None
        app_label, model = self.permission_model.split(".")
        return f"{app_label}.{action}_{model}"

    def actor(self) -> Actor:
        request = self.request  # type: ignore[attr-defined]
        return Actor(user=request.user, token_hint=getattr(request.auth, "hint", ""), source="api")


def visible_realms(request: Request) -> QuerySet[Realm]:
    """Every realm, or only its own for a token restricted to one."""
    realms = Realm.objects.all()
    restricted = token_realm_id(request)
    return realms.filter(pk=restricted) if restricted is not None else realms


def as_uuid(value: Any) -> uuid.UUID | None:
    if isinstance(value, uuid.UUID):
        return value
    try:
        return uuid.UUID(str(value))
    except ValueError:
        return None


def find_realm(request: Request, ref: str) -> Realm | None:
    """The realm `ref` names (its uuid, or its name in any letter case) among those the caller may see."""
    realms = visible_realms(request)
    pk = as_uuid(ref)
    if pk is not None:
        return realms.filter(pk=pk).first()
    return realms.alias(lname=Lower("name")).filter(lname=Lower(Value(ref))).first()


def get_realm(request: Request, ref: str) -> Realm:
    realm = find_realm(request, ref)
    if realm is None:
        raise NotFound(f"No realm {ref!r}.")
    return realm
