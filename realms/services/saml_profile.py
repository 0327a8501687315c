"""What the SAML 2.0 Web Browser SSO profile requires of a sign-in response, beyond what pysaml2 checks.

These run on a response pysaml2 (7.5) has already validated (signature, time window, audience when one is named,
InResponseTo), because pysaml2 lets through what the profile (saml-profiles-2.0-os §4.1.4.2-3) refuses:

- a bearer `SubjectConfirmationData` whose `Recipient` is another ACS (another realm's): pysaml2 compares the
  Recipient only when it is given "conversation info", and then also accepts the SP entity ID;
- an assertion without `Conditions` or without `AudienceRestriction` (for pysaml2, no restriction means valid for
  anyone), and one that names us in only one of several AudienceRestrictions (saml-core-2.0-os §2.5.1.4: each must);
- a bearer confirmation without `NotOnOrAfter`: such an assertion never expires, so it could be replayed whenever
  its record in the replay cache is gone.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from saml2.saml import SCM_BEARER
from saml2.time_util import str_to_time

from .saml_errors import (
    InvalidResponse,
    MissingAudience,
    MissingExpiry,
    WrongAudience,
    WrongRecipient,
)

WRONG_AUDIENCE_MESSAGE = (
    "The sign-in response is addressed to another application: check the Audience URI of the Okta app."
)
WRONG_RECIPIENT_MESSAGE = (
    "The sign-in response is addressed to another sign-in URL: the Single sign-on URL of the Okta app (its "
    "Recipient) must be the ACS URL shown on the realm page."
)


def check_audience(assertion, entity_id: str) -> None:
    """The assertion is restricted to audiences, and each of its AudienceRestrictions names our entity ID."""
    conditions = assertion.conditions
    restrictions = list(conditions.audience_restriction) if conditions is not None else []
    if not restrictions:
        raise MissingAudience(
            "The sign-in response does not say which application it is for (it has no audience restriction): the "
            "Audience URI of the Okta app must be the realm's.",
            detail="no Conditions" if conditions is None else "no AudienceRestriction in Conditions",
        )
    for restriction in restrictions:
        audiences = [a.text.strip() for a in restriction.audience if a.text]
        if entity_id not in audiences:
            raise WrongAudience(
                WRONG_AUDIENCE_MESSAGE, detail=f"AudienceRestriction {audiences} does not name {entity_id}"
            )


def _timestamp(value: str) -> datetime:
    return datetime.fromtimestamp(calendar.timegm(str_to_time(value)), tz=UTC)


def check_bearer_confirmation(assertion, acs_url: str) -> datetime:
    """Each bearer confirmation is for our ACS and expires; returns when the assertion stops being acceptable.

    That is the earliest of its NotOnOrAfter times (pysaml2 enforces each one), until which it must be remembered.
    """
    confirmations = [c for c in assertion.subject.subject_confirmation if c.method == SCM_BEARER]
    if not confirmations:
        raise InvalidResponse(
            "The sign-in response has no bearer subject confirmation, which a browser sign-in needs.",
            detail=f"subject confirmation methods: {[c.method for c in assertion.subject.subject_confirmation]}",
        )
    expiries = []
    for confirmation in confirmations:
        data = confirmation.subject_confirmation_data
        recipient = data.recipient if data is not None else None
        if recipient != acs_url:
            raise WrongRecipient(WRONG_RECIPIENT_MESSAGE, detail=f"Recipient {recipient!r}, ACS URL {acs_url!r}")
        if not data.not_on_or_after:
            raise MissingExpiry(
                "The sign-in response has no expiry time (NotOnOrAfter), so it could be used again later: the "
                "identity provider must set one.",
                detail="bearer SubjectConfirmationData without NotOnOrAfter",
            )
        expiries.append(_timestamp(data.not_on_or_after))
    if assertion.conditions is not None and assertion.conditions.not_on_or_after:
        expiries.append(_timestamp(assertion.conditions.not_on_or_after))
    return min(expiries)


__all__ = ["check_audience", "check_bearer_confirmation"]
