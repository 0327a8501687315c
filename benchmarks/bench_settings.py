"""The production settings (console.settings), with the per-token rate limit off.

The benchmarks push one token far beyond SCIM["RATE_LIMIT"] on purpose (they measure capacity); with the limit on,
they would measure 429 responses. Everything else is exactly what production runs.
"""

from console.settings import *  # noqa: F403

SCIM = {**SCIM, "RATE_LIMIT": None}  # noqa: F405
