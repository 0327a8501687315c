"""SCIM errors (RFC 7644 §3.12) and the one exception handler that renders every error of the SCIM API.

Views raise SCIMError subclasses (or let DRF and the database raise theirs); `scim_exception_handler` turns every
exception into the §3.12 body, so no view builds an error response by hand and no request gets an HTML page.
"""

from __future__ import annotations

import logging
import math

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.db import DatabaseError, IntegrityError, InterfaceError, OperationalError
from django.http import Http404
from rest_framework import exceptions as drf_exceptions

from .responses import SCIMResponse

ERROR_URN = "urn:ietf:params:scim:api:messages:2.0:Error"

logger = logging.getLogger(__name__)


class SCIMError(Exception):
    status: int = 400
    scim_type: str | None = None
    default_detail = "Bad request."

    def __init__(self, detail: str | None = None, *, scim_type: str | None = None, headers: dict | None = None):
        self.detail = detail or self.default_detail
        if scim_type is not None:
            self.scim_type = scim_type
        self.headers = headers or {}
        super().__init__(self.detail)


class InvalidFilter(SCIMError):
    scim_type = "invalidFilter"
    default_detail = "The filter syntax is invalid or the filter is not supported."


class TooMany(SCIMError):
    scim_type = "tooMany"


class Uniqueness(SCIMError):
    status = 409
    scim_type = "uniqueness"


class Mutability(SCIMError):
    scim_type = "mutability"


class InvalidSyntax(SCIMError):
    scim_type = "invalidSyntax"


class InvalidPath(SCIMError):
    scim_type = "invalidPath"


class NoTarget(SCIMError):
    scim_type = "noTarget"


class InvalidValue(SCIMError):
    scim_type = "invalidValue"


class InvalidVersion(SCIMError):
    scim_type = "invalidVers"


class NotFound(SCIMError):
    status = 404
    default_detail = "Resource not found."


class PreconditionFailed(SCIMError):
    status = 412
    default_detail = "The resource has changed (If-Match does not match its current version)."


class PayloadTooLarge(SCIMError):
    status = 413
    default_detail = "The request body is too large."


class NotImplementedSCIM(SCIMError):
    status = 501
    default_detail = "Not implemented."


class ServiceUnavailable(SCIMError):
    status = 503
    default_detail = "The service is temporarily unavailable; retry later."


def error_body(status: int, detail: str, scim_type: str | None = None) -> dict:
    body = {"schemas": [ERROR_URN], "status": str(status), "detail": detail}
    if scim_type:
        body["scimType"] = scim_type
    return body


def error_response(status: int, detail: str, scim_type: str | None = None, headers: dict | None = None) -> SCIMResponse:
    return SCIMResponse(error_body(status, detail, scim_type), status=status, headers=headers)


def _drf_detail(exc: drf_exceptions.APIException) -> str:
    detail = exc.detail
    if isinstance(detail, dict):
        return "; ".join(f"{k}: {v}" for k, v in detail.items())
    if isinstance(detail, list):
        return "; ".join(str(d) for d in detail)
    return str(detail)


def scim_exception_handler(exc: Exception, context: dict) -> SCIMResponse:
    """The one place that renders SCIM errors (RFC 7644 §3.12): status as a string, scimType, a useful detail."""
    if isinstance(exc, SCIMError):
        return error_response(exc.status, exc.detail, exc.scim_type, exc.headers)
    if isinstance(exc, drf_exceptions.APIException):
        headers = {}
        request = context.get("request")
        if isinstance(exc, drf_exceptions.NotAuthenticated | drf_exceptions.AuthenticationFailed):
            view = context.get("view")
            auth_header = view.get_authenticate_header(request) if view is not None and request is not None else None
            headers["WWW-Authenticate"] = auth_header or 'Bearer realm="api"'
            detail = _drf_detail(exc)
            if isinstance(exc, drf_exceptions.NotAuthenticated):
                detail = "Authentication required: send 'Authorization: Bearer <API token>'."
            return error_response(401, detail, headers=headers)
        if isinstance(exc, drf_exceptions.Throttled):
            wait = max(1, math.ceil(exc.wait or 1))
            return error_response(
                429, f"Too many requests; retry in {wait} seconds.", headers={"Retry-After": str(wait)}
            )
        if isinstance(exc, drf_exceptions.ParseError):
            return error_response(400, _drf_detail(exc), "invalidSyntax")
        if isinstance(exc, drf_exceptions.UnsupportedMediaType):
            return error_response(
                415, f"{_drf_detail(exc)} Send 'Content-Type: application/scim+json' (or application/json)."
            )
        if isinstance(exc, drf_exceptions.MethodNotAllowed):
            return error_response(405, _drf_detail(exc))
        if isinstance(exc, drf_exceptions.PermissionDenied):
            return error_response(403, _drf_detail(exc))
        return error_response(exc.status_code, _drf_detail(exc))
    if isinstance(exc, Http404):
        return error_response(404, str(exc) or "Resource not found.")
    if isinstance(exc, DjangoPermissionDenied):
        return error_response(403, str(exc) or "Permission denied.")
    if isinstance(exc, IntegrityError):
        logger.warning("SCIM request hit an integrity error: %s", exc)
        return error_response(409, "The request conflicts with the current state of the resource.", "uniqueness")
    if isinstance(exc, OperationalError | InterfaceError):
        logger.error("SCIM request failed: database unavailable: %s", exc)
        return error_response(
            503, "The database is temporarily unavailable; retry later.", headers={"Retry-After": "5"}
        )
    if isinstance(exc, DatabaseError):
        logger.exception("SCIM request failed with a database error")
        return error_response(500, "A database error occurred; nothing of this request was stored. Retry later.")
    logger.exception("Unexpected error in a SCIM request")
    return error_response(500, "Internal server error; nothing of this request was stored. Retry later.")
