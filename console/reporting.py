"""Error reports (Django's technical 500 pages and admin mails) never show a bearer token or a session cookie."""

import logging
import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    # Django's default pattern misses HTTP_AUTHORIZATION, which carries the API token of every SCIM request.
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION|SAML", flags=re.IGNORECASE
    )


class NoTracebackForClientErrors(logging.Filter):
    """A 403 or 404 is the client's mistake, not the server's: one line in the log ("Forbidden (Permission denied):
    /realms/…"), never the traceback of the PermissionDenied that produced it. 5xx keep theirs."""

    def filter(self, record: logging.LogRecord) -> bool:
        if record.exc_info and getattr(record, "status_code", 500) < 500:
            record.exc_info = None
            record.exc_text = None
        return True
