"""What the SAML 2.0 Web Browser SSO profile requires of a sign-in response, beyond what pysaml2 checks.

These run on a response pysaml2 (7.5) has already validated (signature, time window, audience when one is named,
InResponseTo), because pysaml2 lets through what the profile (saml-profiles-2.0-os §4.1.4.2-3) refuses:

- a bearer `SubjectConfirmationData` whose `Recipient` is another ACS (another realm's): pysaml2 compares the
  Recipient only when it is given "conversation info", and then also accepts the SP entity ID;
- an assertion without `Conditions` or without `AudienceRestriction` (for pysaml2, no restriction means valid for
  anyone), and one that names us in only one of several AudienceRestrictions (saml-core-2.0-os §2.5.1.4: each must);
- a bearer confirmation without `NotOnOrAfter`: such an assertion never expires, so it could be replayed whenever
  its record in the replay cache is gone;
- signatures with any algorithm xmlsec1 knows, RSA-SHA1 and MD5 included. Only SHA-256 or stronger is accepted,
  unless the realm opts in (`Realm.allow_weak_signature_algorithms`) for an IdP that cannot sign otherwise.
"""

from __future__ import annotations

import calendar
from datetime import UTC, datetime

from defusedxml import ElementTree
from saml2 import xmldsig
from saml2.saml import SCM_BEARER
from saml2.time_util import str_to_time

from ..models import Realm
from .saml_errors import (
    InvalidResponse,
    MissingAudience,
    MissingExpiry,
    WeakSignatureAlgorithm,
    WrongAudience,
    WrongRecipient,
)

DS_NS = "http://www.w3.org/2000/09/xmldsig#"

# SHA-256 or stronger (RSA PKCS#1 v1.5, RSA-PSS per RFC 6931 §2.3.10, ECDSA); HMAC never (the IdP signs with its key).
STRONG_SIGNATURE_ALGORITHMS = frozenset(
    {
        xmldsig.SIG_RSA_SHA256,
        xmldsig.SIG_RSA_SHA384,
        xmldsig.SIG_RSA_SHA512,
        xmldsig.SIG_ECDSA_SHA256,
        xmldsig.SIG_ECDSA_SHA384,
        xmldsig.SIG_ECDSA_SHA512,
        "http://www.w3.org/2007/05/xmldsig-more#sha256-rsa-MGF1",
        "http://www.w3.org/2007/05/xmldsig-more#sha384-rsa-MGF1",
        "http://www.w3.org/2007/05/xmldsig-more#sha512-rsa-MGF1",
    }
)
STRONG_DIGEST_ALGORITHMS = frozenset({xmldsig.DIGEST_SHA256, xmldsig.DIGEST_SHA384, xmldsig.DIGEST_SHA512})

# The names Okta's and other IdPs' settings use, for the refusal page.
ALGORITHM_NAMES = {
    xmldsig.SIG_RSA_SHA1: "RSA-SHA1",
    xmldsig.SIG_RSA_SHA224: "RSA-SHA224",
    xmldsig.SIG_RSA_MD5: "RSA-MD5",
    xmldsig.SIG_RSA_RIPEMD160: "RSA-RIPEMD160",
    xmldsig.SIG_DSA_SHA1: "DSA-SHA1",
    xmldsig.SIG_ECDSA_SHA1: "ECDSA-SHA1",
    xmldsig.SIG_ECDSA_SHA224: "ECDSA-SHA224",
    "http://www.w3.org/2000/09/xmldsig#hmac-sha1": "HMAC-SHA1",
    xmldsig.DIGEST_SHA1: "SHA-1",
    xmldsig.DIGEST_MD5: "MD5",
    xmldsig.DIGEST_SHA224: "SHA-224",
    xmldsig.DIGEST_RIPEMD160: "RIPEMD-160",
}

WRONG_AUDIENCE_MESSAGE = (
    "The sign-in response is addressed to another application: check the Audience URI of the Okta app."
)
WRONG_RECIPIENT_MESSAGE = (
    "The sign-in response is addressed to another sign-in URL: the Single sign-on URL of the Okta app (its "
    "Recipient) must be the ACS URL shown on the realm page."
)


def _algorithm_name(uri: str) -> str:
    return ALGORITHM_NAMES.get(uri, uri or "no algorithm")


def check_signature_algorithms(realm: Realm, xml: str | bytes) -> None:
    """Every signature in the response uses SHA-256 or stronger, for its signature and its digests.

    Every ds:SignedInfo of the document is read, not only the signatures pysaml2 parsed into objects: the one xmlsec1
    verified is among them whatever the document's shape.
    """
    if realm.allow_weak_signature_algorithms:
        return
    root = ElementTree.fromstring(xml.encode("utf-8") if isinstance(xml, str) else xml)
    refused: dict[str, str] = {}  # URI -> what the page says, in document order
    for signed_info in root.iter(f"{{{DS_NS}}}SignedInfo"):
        method = signed_info.find(f"{{{DS_NS}}}SignatureMethod")
        uri = (method.get("Algorithm") or "") if method is not None else ""
        if uri not in STRONG_SIGNATURE_ALGORITHMS:
            refused.setdefault(uri, f"{_algorithm_name(uri)} (signature algorithm)")
        for digest in signed_info.iterfind(f"{{{DS_NS}}}Reference/{{{DS_NS}}}DigestMethod"):
            uri = digest.get("Algorithm") or ""
            if uri not in STRONG_DIGEST_ALGORITHMS:
                refused.setdefault(uri, f"{_algorithm_name(uri)} (digest algorithm)")
    if refused:
        raise WeakSignatureAlgorithm(
            f"The sign-in response was signed with {' and '.join(refused.values())}, which the realm {realm.name} "
            "does not accept: set the Signature Algorithm of the Okta app to RSA-SHA256 and its Digest Algorithm "
            "to SHA256.",
            detail=f"refused algorithms: {', '.join(refused)}",
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


__all__ = ["check_audience", "check_bearer_confirmation", "check_signature_algorithms"]
