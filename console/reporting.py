"""Error reports (Django's technical 500 pages and admin mails) never show a bearer token or a session cookie."""

import re

from django.views.debug import SafeExceptionReporterFilter


class SecretSafeExceptionReporterFilter(SafeExceptionReporterFilter):
    # Django's default pattern misses HTTP_AUTHORIZATION, which carries the API token of every SCIM request.
    hidden_settings = re.compile(
        "API|TOKEN|KEY|SECRET|PASS|SIGNATURE|HTTP_COOKIE|AUTHORIZATION|SAML", flags=re.IGNORECASE
    )
