"""Refusals of a SAML sign-in: one exception hierarchy, rendered and logged by `realms.console.saml.render_login_error`.

Each message is written for the person trying to sign in (what to do, or whom to ask); `detail` is for the log.
"""

from __future__ import annotations


class SAMLLoginError(Exception):
    """A refused sign-in. `status` is the HTTP status of the page, `code` a stable name for logs and tests."""

    status = 400
    code = "invalid_response"
    title = "Sign-in failed"

    def __init__(self, message: str, detail: str = "") -> None:
        super().__init__(message)
        self.message = message
        self.detail = detail  # for the log only (never shown: it may describe our checks in detail)


class UnknownRealm(SAMLLoginError):
    status, code, title = 404, "unknown_realm", "Unknown realm"


class RealmNotEnabled(SAMLLoginError):
    status, code, title = 403, "realm_not_enabled", "Sign-in with this realm is not enabled"


class RealmMisconfigured(SAMLLoginError):
    status, code, title = 409, "realm_misconfigured", "This realm's SAML settings cannot be used"


class SAMLUnavailable(SAMLLoginError):
    status, code, title = 503, "xmlsec1_missing", "SAML sign-in is unavailable on this server"


class IdPInitiatedRefused(SAMLLoginError):
    status, code, title = 403, "idp_initiated_refused", "Sign-in from the identity provider is not allowed"


class InvalidSignature(SAMLLoginError):
    status, code, title = 403, "invalid_signature", "The sign-in response is not correctly signed"


class WeakSignatureAlgorithm(SAMLLoginError):
    status, code, title = 403, "weak_signature_algorithm", "The sign-in response is signed with a weak algorithm"


class ExpiredAssertion(SAMLLoginError):
    status, code, title = 403, "expired_assertion", "The sign-in response has expired"


class WrongAudience(SAMLLoginError):
    status, code, title = 403, "wrong_audience", "The sign-in response is meant for another application"


class MissingAudience(SAMLLoginError):
    status, code, title = 403, "missing_audience", "The sign-in response does not say which application it is for"


class WrongRecipient(SAMLLoginError):
    status, code, title = 403, "wrong_recipient", "The sign-in response is meant for another sign-in URL"


class MissingExpiry(SAMLLoginError):
    status, code, title = 403, "missing_expiry", "The sign-in response has no expiry time"


class ReplayedAssertion(SAMLLoginError):
    status, code, title = 403, "replayed_assertion", "This sign-in response was already used"


class IdPRefused(SAMLLoginError):
    status, code, title = 403, "idp_refused", "The identity provider did not sign you in"


class InvalidResponse(SAMLLoginError):
    status, code, title = 400, "invalid_response", "The sign-in response is not valid"


class MissingClaim(SAMLLoginError):
    status, code, title = 400, "missing_claim", "The sign-in response lacks a required attribute"


class DeactivatedUser(SAMLLoginError):
    status, code, title = 403, "deactivated_user", "Your account is deactivated"


class AccountConflict(SAMLLoginError):
    status, code, title = 409, "account_conflict", "A console account with this username already exists"


__all__ = [
    "AccountConflict",
    "DeactivatedUser",
    "ExpiredAssertion",
    "IdPInitiatedRefused",
    "IdPRefused",
    "InvalidResponse",
    "InvalidSignature",
    "MissingAudience",
    "MissingClaim",
    "MissingExpiry",
    "RealmMisconfigured",
    "RealmNotEnabled",
    "ReplayedAssertion",
    "SAMLLoginError",
    "SAMLUnavailable",
    "UnknownRealm",
    "WeakSignatureAlgorithm",
    "WrongAudience",
    "WrongRecipient",
]
