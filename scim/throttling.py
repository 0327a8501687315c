"""Rate limiting per API token (429 with an integer Retry-After, which Okta waits before retrying).

The limit is `SCIM["RATE_LIMIT"]` ("<n>/<second|minute|hour>", None to turn it off), read on every request. Counts
live in Django's cache: the default per-process memory cache limits each worker on its own; a shared cache (the
reference host's `CACHE_URL=redis://…` or `CACHE=database`, see docs/configuration.md) shares the counts between
all workers and app servers.
"""

from __future__ import annotations

from rest_framework.throttling import SimpleRateThrottle

from .conf import app_settings


class TokenRateThrottle(SimpleRateThrottle):
    scope = "scim-token"

    def get_rate(self) -> str | None:
        return app_settings.RATE_LIMIT

    def allow_request(self, request, view) -> bool:
        # The rate is read per request (not once at start-up) so a deployment can change it without a restart.
        self.rate = self.get_rate()
        self.num_requests, self.duration = self.parse_rate(self.rate)
        return super().allow_request(request, view)

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        if token is None or getattr(token, "pk", None) is None:
            return None  # unauthenticated requests are refused before any work; nothing to count
        return f"scim-throttle:token:{token.pk}"
