"""System checks of the SCIM layer's settings (`manage.py check`): the SCIM dict (docs/scim.md).

Ids: scim.E001 (SCIM is not a dict), scim.W001 (an unknown key), scim.E002 (a count or size that is not a positive
integer), scim.E003 (RATE_LIMIT unreadable). Before 0.2.0 these were realms.E001, W001, E002 and E004.
"""

from __future__ import annotations

import re
from typing import Any

from django.conf import settings
from django.core.checks import Error, Tags, register

from realms.checks import check_settings_dict

from .conf import DEFAULTS

_RATE = re.compile(r"^\d+/(s|sec|second|m|min|minute|h|hour|d|day)$")


def check_scim_settings(app_configs: Any = None, **kwargs: Any) -> list:
    errors = check_settings_dict("SCIM", DEFAULTS, "scim")
    scim_settings = getattr(settings, "SCIM", {})
    rate = scim_settings.get("RATE_LIMIT", "") if isinstance(scim_settings, dict) else ""
    if rate is not None and rate != "" and not (isinstance(rate, str) and _RATE.match(rate)):
        errors.append(
            Error(
                f"settings.SCIM['RATE_LIMIT'] must be '<n>/second|minute|hour|day' or None, not {rate!r}.",
                id="scim.E003",
            )
        )
    return errors


def register_checks() -> None:
    register(Tags.compatibility)(check_scim_settings)
