"""Token hygiene: a token never appears in logs, error reports, audit events or the database."""

import logging
import sys

from django.test import RequestFactory
from django.views.debug import ExceptionReporter

from realms.models import APIToken, AuditEvent
from realms.tokens import generate_token

from ..scim.conftest import okta_user, patch_op


def _request_with_token():
    """The token lives only in the request's headers (not in a local of the frame that reports the error)."""
    return RequestFactory().get("/api/whoami", HTTP_AUTHORIZATION=f"Bearer {generate_token().secret}")


def test_error_reports_hide_the_authorization_header(db):
    request = _request_with_token()
    secret = request.META["HTTP_AUTHORIZATION"].split()[1]
    try:
        raise ValueError("boom")
    except ValueError:
        reporter = ExceptionReporter(request, *sys.exc_info())
        text = reporter.get_traceback_text()
    header_lines = [line for line in text.splitlines() if line.startswith("HTTP_AUTHORIZATION")]
    assert header_lines and all(secret not in line and "****" in line for line in header_lines)
    meta = reporter.filter.get_safe_request_meta(request)
    assert secret not in meta["HTTP_AUTHORIZATION"]
    assert "HTTP_AUTHORIZATION" in text  # the header is listed, its value masked
    assert "********" in text


def test_no_token_in_any_log_record(scim, caplog, settings):
    caplog.set_level(logging.DEBUG)
    user = scim.post("/Users", okta_user("log@example.com")).json()
    scim.patch(f"/Users/{user['id']}", patch_op({"op": "replace", "value": {"active": False}}))
    scim.get("/Users/not-a-uuid")
    scim.post("/Users", raw="{broken")
    bad = generate_token().secret
    scim.get("/Users", token=bad)
    scim.get("/Users", token=scim.token[:-1] + ("A" if scim.token[-1] != "A" else "B"))
    logged = "\n".join(f"{r.getMessage()} {r.args!r} {getattr(r, 'request', '')!r}" for r in caplog.records)
    assert caplog.records, "expected some log records"
    assert scim.token not in logged and bad not in logged
    assert scim.token[5:-6] not in logged  # not even the random part


def test_no_token_in_audit_events_or_stored_rows(scim, db):
    user = scim.post("/Users", okta_user("audit@example.com")).json()
    scim.delete(f"/Users/{user['id']}")
    for event in AuditEvent.objects.all():
        dumped = f"{event.changes} {event.actor_username} {event.token_hint} {event.resource_repr}"
        assert scim.token not in dumped and scim.token[5:-6] not in dumped
        assert len(event.token_hint) <= 4
    for row in APIToken.objects.values():
        assert scim.token not in " ".join(str(v) for v in row.values())
