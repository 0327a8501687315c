"""Sign in to the console through a realm's SAML IdP (SP-initiated and IdP-initiated), with pysaml2 and xmlsec1.

pysaml2 validates the response: the assertion's signature against the certificates of the realm's IdP metadata,
the audience (our entity id) when the assertion names one, the time window (with `SAML_ACCEPTED_TIME_DIFF` seconds
of clock skew) and, for SP-initiated logins, InResponseTo. `saml_profile` then checks what the SAML 2.0 Web SSO
profile requires and pysaml2 lets through: signatures and digests of SHA-256 or stronger (unless the realm allows
weak ones), an AudienceRestriction that names us, a bearer confirmation whose Recipient is this realm's ACS URL and
that has a NotOnOrAfter. On top of it: replayed assertions are refused (each one is remembered until it expires),
relay states only ever lead to same-site URLs, the realm user (matched to the row SCIM provisions for the same
userName) must be active, and a console session opened this way expires after the realm's `login_session_expiry`.

Every refusal is a `SAMLLoginError` (`saml_errors`) whose message is written for the person trying to sign in; the
view renders it and logs it. The checks of the response all come before its assertion is remembered as used and
before any realm user or console user is created or changed.
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.contrib.auth import get_user_model, login
from django.db import IntegrityError, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.http import HttpRequest
from django.shortcuts import resolve_url
from django.utils import timezone
from django.utils.http import url_has_allowed_host_and_scheme
from django.utils.module_loading import import_string
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.response import StatusError, UnsolicitedResponse
from saml2.sigver import SignatureError, SigverError
from saml2.validate import ResponseLifetimeExceed, ToEarly

from .. import saml, urls_helpers
from ..datetimes import for_db
from ..models import (
    AuditEvent,
    ConsoleUserLink,
    Realm,
    RealmUser,
    SAMLAuthnRequest,
    SAMLConsumedAssertion,
    is_service_account,
)
from . import roles, saml_profile
from .audit import Actor, audit_event
from .identities import EmailData, IdentityError, UserData, create_user, replace_user
from .saml_errors import (
    AccountConflict,
    DeactivatedUser,
    ExpiredAssertion,
    IdPInitiatedRefused,
    IdPRefused,
    InvalidResponse,
    InvalidSignature,
    MissingAudience,
    MissingClaim,
    MissingExpiry,
    RealmMisconfigured,
    RealmNotEnabled,
    ReplayedAssertion,
    SAMLLoginError,
    SAMLUnavailable,
    UnknownRealm,
    WeakSignatureAlgorithm,
    WrongAudience,
    WrongRecipient,
)

logger = logging.getLogger(__name__)

SESSION_REALM_KEY = "realm_login"


# ---------------------------------------------------------------------------------------------------- realms


def login_realms() -> list[Realm]:
    """The realms offered on the console login page: enabled for login, with IdP metadata."""
    return list(Realm.objects.filter(enabled_for_login=True).exclude(idp_metadata="").order_by("name"))


def get_login_realm(pk: Any) -> Realm:
    realm = Realm.objects.filter(pk=pk).first()
    if realm is None:
        raise UnknownRealm("There is no realm at this address. Start again from the console login page.")
    if not realm.enabled_for_login or not realm.idp_metadata:
        raise RealmNotEnabled(
            f"The realm {realm.name} is not enabled for console sign-in. Ask a console administrator to enable it.",
            detail=f"enabled_for_login={realm.enabled_for_login} idp_metadata={'set' if realm.idp_metadata else ''}",
        )
    return realm


def safe_next_url(request: HttpRequest, url: str | None) -> str:
    """`url` when it is a same-site URL (relative or on this host), else the default landing page."""
    if (
        url
        and url.startswith(("/", "http://", "https://"))
        and url_has_allowed_host_and_scheme(url, allowed_hosts={request.get_host()}, require_https=request.is_secure())
    ):
        return url
    return resolve_url(settings.LOGIN_REDIRECT_URL)


def _client(realm: Realm, request: HttpRequest):
    if saml.xmlsec_binary() is None:
        # pysaml2 would fail with "Cannot find ['xmlsec1']", which reads like a broken realm; it is the server.
        raise SAMLUnavailable(
            "This server cannot check SAML signatures: the xmlsec1 program is not installed. Ask the console's "
            "administrator to install it (Debian package xmlsec1).",
            detail="xmlsec1 not found on PATH",
        )
    try:
        return saml.sp_client(realm, request)
    except Exception as exc:  # pysaml2 raises many kinds of errors on unusable metadata or a missing xmlsec1
        raise RealmMisconfigured(
            f"The SAML settings of the realm {realm.name} cannot be loaded. Ask a console administrator to check "
            "the realm's IdP metadata.",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc


# ---------------------------------------------------------------------------------------------------- SP-initiated


def begin_login(realm: Realm, request: HttpRequest, next_url: str | None = None) -> str:
    """Start an SP-initiated login: the URL of the IdP's SSO service with a deflated AuthnRequest (redirect binding).

    The RelayState sent along is a random key of the stored request, never a URL: the safe landing URL stays here.
    """
    client = _client(realm, request)
    idps = client.metadata.identity_providers()
    if len(idps) != 1:
        raise RealmMisconfigured(
            f"The IdP metadata of the realm {realm.name} must describe exactly one identity provider.",
            detail=f"{len(idps)} IdPs in the metadata",
        )
    relay_state = secrets.token_urlsafe(32)
    try:
        request_id, info = client.prepare_for_authenticate(
            entityid=idps[0], relay_state=relay_state, binding=BINDING_HTTP_REDIRECT
        )
    except Exception as exc:
        raise RealmMisconfigured(
            f"The IdP metadata of the realm {realm.name} has no usable single sign-on service (HTTP-Redirect).",
            detail=f"{type(exc).__name__}: {exc}",
        ) from exc
    now = timezone.now()
    SAMLAuthnRequest.objects.filter(expires_at__lte=now).delete()
    SAMLAuthnRequest.objects.create(
        realm=realm,
        request_id=request_id,
        relay_state=relay_state,
        next_url=safe_next_url(request, next_url),
        expires_at=now + timedelta(seconds=saml.app_settings.SAML_REQUEST_LIFETIME),
    )
    logger.info("SAML AuthnRequest %s sent for realm %s", request_id, realm.pk)
    return dict(info["headers"])["Location"]


# ---------------------------------------------------------------------------------------------------- ACS


@dataclass(frozen=True)
class Identity:
    """What the assertion says about the user, through the realm's claim mappings."""

    username: str
    email: str = ""
    first_name: str = ""
    last_name: str = ""
    full_name: str = ""


@dataclass(frozen=True)
class LoginResult:
    user: Any
    realm_user: RealmUser
    redirect_url: str
    idp_initiated: bool


def _pending_request(realm: Realm, relay_state: str) -> SAMLAuthnRequest | None:
    if not relay_state or len(relay_state) > 64:
        return None
    pending = SAMLAuthnRequest.objects.filter(realm=realm, relay_state=relay_state).first()
    if pending is None:
        return None
    # Used once, whatever happens next; an expired one is as good as unknown.
    SAMLAuthnRequest.objects.filter(pk=pending.pk).delete()
    return pending if pending.expires_at > timezone.now() else None


def _parse(realm: Realm, request: HttpRequest, saml_response: str, outstanding: dict[str, str]):
    client = _client(realm, request)
    try:
        response = client.parse_authn_request_response(saml_response, BINDING_HTTP_POST, outstanding=outstanding)
    except UnsolicitedResponse as exc:
        if realm.allow_idp_initiated_login:
            raise InvalidResponse("This sign-in response does not answer a sign-in started here.", str(exc)) from exc
        raise IdPInitiatedRefused(
            f"The realm {realm.name} only accepts sign-ins started from the console login page. Start again there.",
            str(exc),
        ) from exc
    except (SignatureError, SigverError) as exc:
        raise InvalidSignature(
            "The signature of the sign-in response could not be verified with the identity provider's certificate.",
            f"{type(exc).__name__}: {exc}",
        ) from exc
    except ResponseLifetimeExceed as exc:
        raise ExpiredAssertion("The sign-in response has expired. Sign in again.", str(exc)) from exc
    except ToEarly as exc:
        raise ExpiredAssertion(
            "The sign-in response is not valid yet: check the clocks of the identity provider and the console.",
            str(exc),
        ) from exc
    except StatusError as exc:
        raise IdPRefused(f"The identity provider refused the sign-in: {exc}", str(exc)) from exc
    except Exception as exc:
        text = f"{type(exc).__name__}: {exc}"
        if "AudienceRestrictions" in str(exc):
            raise WrongAudience(saml_profile.WRONG_AUDIENCE_MESSAGE, text) from exc
        if "No valid recipient" in str(exc):  # pysaml2 refuses a bearer confirmation without Recipient itself
            raise WrongRecipient(saml_profile.WRONG_RECIPIENT_MESSAGE, text) from exc
        raise InvalidResponse("The sign-in response could not be read or failed validation.", text) from exc
    if response is None or response.assertion is None:
        raise InvalidResponse("The sign-in response holds no usable assertion.", "no response or no assertion")
    return response


def _check_profile(realm: Realm, request: HttpRequest, response) -> datetime:
    """What the Web SSO profile requires and pysaml2 lets through; returns when the assertion stops being acceptable."""
    saml_profile.check_signature_algorithms(realm, response.xmlstr)
    saml_profile.check_audience(response.assertion, urls_helpers.saml_metadata_url(realm.pk, request))
    return saml_profile.check_bearer_confirmation(response.assertion, urls_helpers.saml_acs_url(realm.pk, request))


def _consume_assertion(realm: Realm, assertion_id: str, not_on_or_after: datetime) -> None:
    """Remember the assertion until it expires (clock skew included); a second use is a replay (the unique index
    decides, even in races). Every accepted assertion has a NotOnOrAfter (`saml_profile.check_bearer_confirmation`)."""
    now = timezone.now()
    expires_at = max(for_db(not_on_or_after), now) + timedelta(seconds=saml.app_settings.SAML_ACCEPTED_TIME_DIFF)
    SAMLConsumedAssertion.objects.filter(expires_at__lte=now).delete()
    try:
        with transaction.atomic():
            SAMLConsumedAssertion.objects.create(realm=realm, assertion_id=assertion_id[:255], expires_at=expires_at)
    except IntegrityError:
        raise ReplayedAssertion(
            "This sign-in response was already used. Sign in again from the console or from Okta.",
            f"assertion {assertion_id}",
        ) from None


def _claim(ava: dict[str, list], name: str) -> str:
    """The first value of the attribute `name` (exact name first, then ignoring letter case)."""
    if not name:
        return ""
    values = ava.get(name)
    if values is None:
        lowered = name.lower()
        values = next((v for k, v in ava.items() if k.lower() == lowered), None)
    if isinstance(values, list | tuple):
        values = values[0] if values else ""
    return str(values or "").strip()


def identity_from_response(realm: Realm, response) -> Identity:
    """Apply the realm's claim mappings. Without the username claim, the NameID is the username (Okta's default)."""
    ava = response.ava or {}
    username = _claim(ava, realm.username_claim)
    if not username and response.name_id is not None and response.name_id.text:
        username = response.name_id.text.strip()
    if not username:
        raise MissingClaim(
            f"The sign-in response has no '{realm.username_claim}' attribute and no NameID: add the attribute "
            "statement to the Okta app.",
            f"attributes: {sorted(ava)}",
        )
    user_model = get_user_model()
    if len(username) > (user_model._meta.get_field(user_model.USERNAME_FIELD).max_length or len(username)):
        raise InvalidResponse("The username sent by the identity provider is too long for a console account.")
    identity = Identity(
        username=username,
        email=_claim(ava, realm.email_claim),
        first_name=_claim(ava, realm.first_name_claim),
        last_name=_claim(ava, realm.last_name_claim),
        full_name=_claim(ava, realm.full_name_claim),
    )
    # XML 1.0 cannot carry NUL or a lone surrogate, so a signed assertion never should: refused, never stored (the
    # same rule as every other door to the database, scim/negotiation.py).
    for name, value in vars(identity).items():
        if "\x00" in value or any("\ud800" <= c <= "\udfff" for c in value):
            raise InvalidResponse("The sign-in response holds a character no account can store.", f"claim {name}")
    return identity


def _find_realm_user(realm: Realm, username: str) -> RealmUser | None:
    """The row SCIM provisions for this userName (RFC 7643: userName is caseExact false)."""
    return (
        RealmUser.objects.filter(realm=realm)
        .alias(lu=Lower("username"))
        .filter(lu=Lower(Value(username)))
        .prefetch_related("emails")
        .first()
    )


def _user_data(identity: Identity, base: RealmUser | None) -> UserData:
    """The realm user's new state: its current attributes, with the names and email of the assertion merged in."""
    attributes: dict[str, Any] = dict(base.attributes) if base is not None and isinstance(base.attributes, dict) else {}
    attributes.setdefault("userName", identity.username)
    name = dict(attributes.get("name") or {}) if isinstance(attributes.get("name"), dict) else {}
    if identity.first_name:
        name["givenName"] = identity.first_name
    if identity.last_name:
        name["familyName"] = identity.last_name
    if identity.full_name:
        name["formatted"] = identity.full_name
    if name:
        attributes["name"] = name
    emails = [EmailData(e.value, e.type, e.primary) for e in base.emails.all()] if base is not None else []
    if identity.email and identity.email.lower() not in {e.value.lower() for e in emails}:
        emails = [EmailData(identity.email, "work", True)] + [EmailData(e.value, e.type, False) for e in emails]
        attributes["emails"] = [{"value": e.value, "type": e.type, "primary": e.primary} for e in emails]
    display_name = base.display_name if base is not None else ""
    if identity.full_name and not display_name:
        display_name = identity.full_name
        attributes["displayName"] = display_name
    return UserData(
        username=base.username if base is not None else identity.username,
        attributes=attributes,
        external_id=base.external_id if base is not None else None,
        active=base.active if base is not None else True,
        display_name=display_name,
        given_name=name.get("givenName", ""),
        family_name=name.get("familyName", ""),
        emails=emails,
    )


def _console_user(realm: Realm, realm_user: RealmUser, identity: Identity, actor: Actor) -> ConsoleUserLink:
    """The console user linked to the realm user, created on first sign-in; an unlinked account is never taken."""
    User = get_user_model()
    username_field = User.USERNAME_FIELD
    link = ConsoleUserLink.objects.select_related("console_user").filter(realm_user=realm_user).first()
    if link is None:
        # A link left by a SCIM DELETE of a user with the same userName in this realm: the same person, back.
        link = (
            ConsoleUserLink.objects.select_related("console_user")
            .filter(
                realm=realm,
                realm_user__isnull=True,
                **{f"console_user__{username_field}__iexact": realm_user.username},
            )
            .first()
        )
        if link is not None:
            link.realm_user = realm_user
            link.save(update_fields=["realm_user"])
    if link is None:
        existing = User.objects.filter(**{f"{username_field}__iexact": realm_user.username}).first()
        if existing is not None:
            raise AccountConflict(
                f"A console account named '{existing.get_username()}' already exists and is not linked to the realm "
                f"{realm.name}. Ask a console administrator to rename or remove it.",
                detail=f"existing user {existing.pk}, linked to realm "
                f"{getattr(getattr(existing, 'realm_link', None), 'realm_id', None)}",
            )
        user = User(**{username_field: realm_user.username})
        user.set_unusable_password()  # realm users sign in through their IdP only
        user.save()
        link = ConsoleUserLink.objects.create(realm=realm, console_user=user, realm_user=realm_user)
        changes = {"realm_user": {"id": str(realm_user.pk), "userName": realm_user.username}}
        action = AuditEvent.Action.CONSOLE_USER_CREATED
        audit_event(realm.pk, actor, action, "ConsoleUser", user.pk, user.get_username(), changes).save()
    user = link.console_user
    if is_service_account(user):
        raise AccountConflict("This account cannot sign in to the console.", detail="service account")
    # The names and email the IdP sent, where the host's user model has such fields (AbstractUser's names).
    wanted = {"email": identity.email, "first_name": identity.first_name, "last_name": identity.last_name}
    fields = {
        name: value[: User._meta.get_field(name).max_length or None]
        for name, value in wanted.items()
        if value and name in {f.name for f in User._meta.get_fields()} and name != username_field
    }
    changed = [k for k, v in fields.items() if getattr(user, k) != v]
    for key in changed:
        setattr(user, key, fields[key])
    if changed:
        user.save(update_fields=changed)
    return link


def _sign_in_user(realm: Realm, identity: Identity, actor: Actor) -> tuple[RealmUser, Any]:
    """Create or update the realm user and its console user, and apply the role mappings, in one transaction."""
    with transaction.atomic():
        realm_user = _find_realm_user(realm, identity.username)
        if realm_user is not None and not realm_user.active:
            raise DeactivatedUser(
                f"Your account in the realm {realm.name} is deactivated. Ask your Okta administrator.",
                detail=f"realm user {realm_user.pk}",
            )
        try:
            if realm_user is None:
                realm_user = create_user(realm, _user_data(identity, None), actor)
            else:
                realm_user = replace_user(realm_user, _user_data(identity, realm_user), actor)
        except IdentityError as exc:
            raise InvalidResponse(f"The account could not be saved: {exc}", str(exc)) from exc
        link = _console_user(realm, realm_user, identity, actor)
        user = link.console_user
        if not user.is_active:
            if not link.deactivated_by_realm:
                raise DeactivatedUser(
                    "Your console account is disabled. Ask a console administrator.", detail=f"console user {user.pk}"
                )
            link.realm_user = realm_user
            roles.reactivate_link(link, actor)
        else:
            link.realm_user = realm_user
            roles.sync_console_user(link, actor)
    return realm_user, user


def complete_login(realm: Realm, request: HttpRequest, saml_response: str, relay_state: str = "") -> LoginResult:
    """Validate the IdP's response and sign the user in; raises a SAMLLoginError when the sign-in is refused."""
    if not saml_response:
        raise InvalidResponse("No SAML response was posted. Start again from the console login page.")
    pending = _pending_request(realm, relay_state)
    outstanding = {pending.request_id: pending.next_url} if pending is not None else {}
    response = _parse(realm, request, saml_response, outstanding)
    idp_initiated = pending is None or response.in_response_to != pending.request_id
    if idp_initiated and not realm.allow_idp_initiated_login:  # pysaml2 already refuses it; kept explicit
        raise IdPInitiatedRefused(f"The realm {realm.name} only accepts sign-ins started from the console login page.")
    not_on_or_after = _check_profile(realm, request, response)
    _consume_assertion(realm, response.assertion.id or "", not_on_or_after)
    identity = identity_from_response(realm, response)
    actor = Actor(user=None, token_hint="", source="saml")
    try:
        realm_user, user = _sign_in_user(realm, identity, actor)
    except IntegrityError as exc:  # two first sign-ins of the same person at the same moment
        raise AccountConflict("Another sign-in of the same account was in progress. Sign in again.", str(exc)) from exc
    # IdP-initiated: Okta's "Default RelayState" may name a console page; only a same-site one is followed.
    redirect_url = safe_next_url(request, pending.next_url if pending is not None else relay_state)
    open_session(request, user, realm)
    logger.info(
        "SAML sign-in: console user %s (realm user %s) through realm %s, %s-initiated",
        user.pk,
        realm_user.pk,
        realm.pk,
        "IdP" if idp_initiated else "SP",
    )
    return LoginResult(user=user, realm_user=realm_user, redirect_url=redirect_url, idp_initiated=idp_initiated)


def session_backend(user: Any) -> str:
    """The first of the host's AUTHENTICATION_BACKENDS that restores this user's session on the next request
    (Django keeps a session only for a backend that is still configured and whose get_user finds the user)."""
    for path in settings.AUTHENTICATION_BACKENDS:
        if import_string(path)().get_user(user.pk) is not None:
            return path
    raise AccountConflict(
        "None of this site's authentication backends can keep this user signed in.",
        detail="no authentication backend restores the user (AUTHENTICATION_BACKENDS)",
    )


def open_session(request: HttpRequest, user: Any, realm: Realm) -> None:
    """Log in, with an absolute expiry after the realm's session expiry, and index the session for deactivations."""
    login(request, user, backend=session_backend(user))
    expires_at = timezone.now() + timedelta(seconds=realm.login_session_expiry)
    request.session.set_expiry(expires_at)
    request.session[SESSION_REALM_KEY] = str(realm.pk)
    if not request.session.session_key:
        request.session.save()
    roles.record_session(user, realm.pk, request.session.session_key, expires_at)


__all__ = [
    "AccountConflict",
    "DeactivatedUser",
    "ExpiredAssertion",
    "IdPInitiatedRefused",
    "IdPRefused",
    "Identity",
    "InvalidResponse",
    "InvalidSignature",
    "LoginResult",
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
    "begin_login",
    "complete_login",
    "get_login_realm",
    "identity_from_response",
    "login_realms",
    "open_session",
    "safe_next_url",
]
