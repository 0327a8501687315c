"""SAML sign-in through a realm, driven end to end with a real pysaml2 IdP (tests/realms/saml_idp.py) and xmlsec1."""

from __future__ import annotations

import base64
import logging
import uuid
from datetime import timedelta

import pytest
from django.contrib.sessions.models import Session
from django.test import Client
from django.utils import timezone
from saml2.xmldsig import DIGEST_MD5, DIGEST_SHA1, DIGEST_SHA256, SIG_RSA_SHA1, SIG_RSA_SHA256

from realms.models import AuditEvent, ConsoleUserLink, RealmUser, SAMLConsumedAssertion
from tests.factories import User

from ..factories import RealmFactory, UserFactory
from ..scim.conftest import SCIMClient, okta_user, patch_op, scim_token
from .saml_idp import (
    TestIdP,
    acs_path,
    idp_initiated,
    install_idp,
    make_key_pair,
    make_saml_realm,
    sign_in,
    sp_entity_id,
    user_attributes,
)


@pytest.fixture(scope="module")
def idp_keys(tmp_path_factory):
    return make_key_pair(tmp_path_factory.mktemp("idp"), "okta-idp")


@pytest.fixture(scope="module")
def attacker_keys(tmp_path_factory):
    return make_key_pair(tmp_path_factory.mktemp("attacker"), "attacker")


@pytest.fixture
def saml_realm(db):
    return make_saml_realm()


@pytest.fixture
def idp(client, saml_realm, idp_keys) -> TestIdP:
    return install_idp(client, saml_realm, idp_keys)


def logged_in_user(client) -> User | None:
    user_id = client.session.get("_auth_user_id")
    return User.objects.get(pk=user_id) if user_id else None


def assert_refused(response, client, caplog, status: int, code: str, text: str) -> None:
    """A clear error page with the right status (never a 500), nobody signed in, and a warning in the log."""
    assert response.status_code == status, response.content[:1000]
    page = response.content.decode()
    assert f'data-code="{code}"' in page
    assert text in page
    assert "Back to the login page" in page
    assert logged_in_user(client) is None
    assert any(
        r.name == "realms.saml" and r.levelno == logging.WARNING and code in r.getMessage() for r in caplog.records
    )


# ---------------------------------------------------------------------------------------------------- login page


def test_login_page_offers_only_realms_enabled_for_login(client, saml_realm, idp):
    RealmFactory(name="Not enabled", enabled_for_login=False, idp_metadata=saml_realm.idp_metadata)
    RealmFactory(name="No metadata", enabled_for_login=True, idp_metadata="")
    page = client.get("/login/?next=/realms/").content.decode()
    assert "Sign in with Okta" in page
    assert f'href="/realms/{saml_realm.pk}/saml/login/?next=/realms/"' in page
    assert "Sign in with Not enabled" not in page
    assert "Sign in with No metadata" not in page


def test_login_page_without_sso_realms_has_no_buttons(client, db):
    RealmFactory(name="Okta", enabled_for_login=False)
    assert "Sign in with" not in client.get("/login/").content.decode()


def test_sp_metadata_is_served_at_the_url_the_realm_page_shows(admin_client, saml_realm):
    page = admin_client.get(f"/realms/{saml_realm.pk}/").content.decode()
    assert sp_entity_id(saml_realm) in page
    response = admin_client.get(f"/realms/{saml_realm.pk}/saml/metadata/")
    assert response.status_code == 200
    assert f'entityID="{sp_entity_id(saml_realm)}"' in response.content.decode()


# ---------------------------------------------------------------------------------------------------- SP-initiated


def test_sp_initiated_login_creates_realm_user_and_linked_console_user(client, saml_realm, idp):
    response = sign_in(client, saml_realm, idp, "jane@example.com", next_url="/realms/")
    assert response.status_code == 302
    assert response["Location"] == "/realms/"
    user = logged_in_user(client)
    assert user.username == "jane@example.com"
    assert (user.email, user.first_name, user.last_name) == ("jane@example.com", "Jane", "Doe")
    assert not user.has_usable_password()  # realm users sign in through their IdP only
    realm_user = RealmUser.objects.get(realm=saml_realm)
    assert realm_user.username == "jane@example.com" and realm_user.active
    assert (realm_user.given_name, realm_user.family_name) == ("Jane", "Doe")
    assert [e.value for e in realm_user.emails.all()] == ["jane@example.com"]
    assert realm_user.console_link.console_user == user
    home = client.get("/")
    assert home.status_code == 200
    assert "jane@example.com" in home.content.decode()
    actions = set(AuditEvent.objects.filter(realm=saml_realm, source="saml").values_list("action", flat=True))
    assert {"user.created", "console_user.created"} <= actions


def test_sign_in_matches_the_user_scim_provisioned(client, saml_realm, idp):
    scim = SCIMClient(Client(), saml_realm, scim_token())
    created = scim.post("/Users", okta_user("Jane@Example.com", external_id="00u1"))
    assert created.status_code == 201
    sign_in(client, saml_realm, idp, "jane@example.com")
    assert RealmUser.objects.filter(realm=saml_realm).count() == 1
    realm_user = RealmUser.objects.get(pk=created.json()["id"])
    assert realm_user.external_id == "00u1"  # SCIM's data kept
    assert realm_user.console_link.console_user == logged_in_user(client)


def test_second_sign_in_reuses_the_console_user_and_updates_names(client, saml_realm, idp):
    sign_in(client, saml_realm, idp, "jane@example.com")
    first = logged_in_user(client)
    client.post("/logout/")
    response = client.get(f"/realms/{saml_realm.pk}/saml/login/")
    saml_response, relay_state = idp.answer(
        response["Location"], user_attributes("jane@example.com", "Janet", "Smith"), name_id="jane@example.com"
    )
    client.post(acs_path(saml_realm), {"SAMLResponse": saml_response, "RelayState": relay_state})
    user = logged_in_user(client)
    assert user == first
    assert (user.first_name, user.last_name) == ("Janet", "Smith")
    assert RealmUser.objects.get(realm=saml_realm).given_name == "Janet"


def test_claim_mappings_of_the_realm(client, saml_realm, idp):
    saml_realm.username_claim = "login"
    saml_realm.full_name_claim = "displayName"
    saml_realm.save()
    response = client.get(f"/realms/{saml_realm.pk}/saml/login/")
    attributes = {"login": "jdoe", "email": "jane@example.com", "displayName": "Jane Q. Doe"}
    saml_response, relay_state = idp.answer(response["Location"], attributes, name_id="jane@example.com")
    client.post(acs_path(saml_realm), {"SAMLResponse": saml_response, "RelayState": relay_state})
    assert logged_in_user(client).username == "jdoe"
    realm_user = RealmUser.objects.get(realm=saml_realm)
    assert realm_user.username == "jdoe"
    assert realm_user.full_name == "Jane Q. Doe"


def test_off_site_next_url_is_not_followed(client, saml_realm, idp):
    response = sign_in(client, saml_realm, idp, "jane@example.com", next_url="https://evil.example.com/")
    assert response.status_code == 302
    assert response["Location"] == "/"
    assert logged_in_user(client) is not None


def test_session_expires_after_the_realm_session_expiry(client, saml_realm, idp):
    saml_realm.login_session_expiry = 600
    saml_realm.save()
    sign_in(client, saml_realm, idp, "jane@example.com")
    age = client.session.get_expiry_age()
    assert 540 < age <= 600
    session = Session.objects.get(session_key=client.session.session_key)
    assert session.expire_date <= timezone.now() + timedelta(seconds=600)
    # Once the expiry has passed, the session no longer signs anyone in.
    Session.objects.filter(pk=session.pk).update(expire_date=timezone.now() - timedelta(seconds=1))
    response = client.get("/")
    assert response.status_code == 302 and response["Location"].startswith("/login/")


# ---------------------------------------------------------------------------------------------------- IdP-initiated


def test_idp_initiated_login(client, saml_realm, idp):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", relay_state="/realms/")
    assert response.status_code == 302
    assert response["Location"] == "/realms/"
    assert logged_in_user(client).username == "jane@example.com"


@pytest.mark.parametrize(
    "relay_state", ["https://evil.example.com/x", "//evil.example.com/x", "javascript:alert(1)", "realms/"]
)
def test_idp_initiated_relay_state_must_be_same_site(client, saml_realm, idp, relay_state):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", relay_state=relay_state)
    assert response.status_code == 302
    assert response["Location"] == "/"


def test_idp_initiated_login_refused_when_the_realm_does_not_allow_it(client, saml_realm, idp, caplog):
    saml_realm.allow_idp_initiated_login = False
    saml_realm.save()
    response = idp_initiated(client, saml_realm, idp, "jane@example.com")
    assert_refused(response, client, caplog, 403, "idp_initiated_refused", "only accepts sign-ins started from")
    # SP-initiated still works.
    assert sign_in(client, saml_realm, idp, "jane@example.com").status_code == 302
    assert logged_in_user(client) is not None


# ---------------------------------------------------------------------------------------------------- failures


def test_response_signed_by_another_key_is_refused(client, saml_realm, idp, attacker_keys, caplog):
    attacker = TestIdP(attacker_keys, idp.sp_metadata)  # same entity id, its own key
    response = idp_initiated(client, saml_realm, attacker, "jane@example.com")
    assert_refused(response, client, caplog, 403, "invalid_signature", "could not be verified")
    assert not RealmUser.objects.exists()


def test_unsigned_assertion_is_refused(client, saml_realm, idp, caplog):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", sign_assertion=False)
    assert_refused(response, client, caplog, 403, "invalid_signature", "could not be verified")


def test_expired_assertion_is_refused(client, saml_realm, idp, caplog):
    # Issued 20 minutes ago for 5 minutes: genuine and correctly signed, but expired 15 minutes ago.
    response = sign_in(client, saml_realm, idp, "jane@example.com", issued_minutes_ago=20)
    assert_refused(response, client, caplog, 403, "expired_assertion", "has expired")


def test_assertion_for_another_audience_is_refused(client, saml_realm, idp, caplog):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", sp_entity_id="https://other.example.com/sp")
    assert_refused(response, client, caplog, 403, "wrong_audience", "addressed to another application")


def test_replayed_assertion_is_refused(client, saml_realm, idp, caplog):
    saml_response = idp.response(
        user_attributes("jane@example.com"),
        name_id="jane@example.com",
        destination=f"http://testserver{acs_path(saml_realm)}",
        sp_entity_id=sp_entity_id(saml_realm),
    )
    first = client.post(acs_path(saml_realm), {"SAMLResponse": saml_response})
    assert first.status_code == 302
    thief = Client()
    replay = thief.post(acs_path(saml_realm), {"SAMLResponse": saml_response})
    assert_refused(replay, thief, caplog, 403, "replayed_assertion", "already used")


def test_sp_initiated_response_cannot_be_replayed_either(client, saml_realm, idp, caplog):
    response = client.get(f"/realms/{saml_realm.pk}/saml/login/")
    saml_response, relay_state = idp.answer(
        response["Location"], user_attributes("jane@example.com"), "jane@example.com"
    )
    data = {"SAMLResponse": saml_response, "RelayState": relay_state}
    assert client.post(acs_path(saml_realm), data).status_code == 302
    thief = Client()
    assert_refused(thief.post(acs_path(saml_realm), data), thief, caplog, 403, "replayed_assertion", "already used")


# ---------------------------------------------------------------------------------------------------- Web SSO profile
# What the SAML 2.0 Web Browser SSO profile (saml-profiles-2.0-os §4.1.4.2-3) requires of an assertion, each case
# built by the test IdP with a genuine signature, and checked against the same response built correctly.


def assert_nobody_created(realm) -> None:
    """A refused sign-in leaves nothing behind: no realm user, no console user, no session, no used assertion."""
    assert not RealmUser.objects.filter(realm=realm).exists()
    assert not ConsoleUserLink.objects.exists()
    assert not User.objects.filter(username="jane@example.com").exists()
    # (the test client's `session` saves an empty one when asked for it: only signed-in sessions count)
    assert not any("_auth_user_id" in session.get_decoded() for session in Session.objects.all())
    assert not SAMLConsumedAssertion.objects.exists()


def assert_signs_in(response, client) -> None:
    assert response.status_code == 302, response.content[:1000]
    assert logged_in_user(client).username == "jane@example.com"


@pytest.mark.parametrize("flow", ["sp", "idp"])
def test_assertion_addressed_to_another_acs_is_refused(client, saml_realm, idp, caplog, flow):
    # Another realm of the same Okta org: an assertion meant for its ACS must not sign anyone in here.
    other = make_saml_realm(name="Other", idp_metadata=saml_realm.idp_metadata)
    other_acs = f"http://testserver{acs_path(other)}"
    start = sign_in if flow == "sp" else idp_initiated
    response = start(client, saml_realm, idp, "jane@example.com", recipient=other_acs)
    assert_refused(response, client, caplog, 403, "wrong_recipient", "addressed to another sign-in URL")
    assert_nobody_created(saml_realm)
    assert_signs_in(start(client, saml_realm, idp, "jane@example.com"), client)


def test_assertion_without_recipient_is_refused(client, saml_realm, idp, caplog):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", drop_recipient=True)
    assert_refused(response, client, caplog, 403, "wrong_recipient", "addressed to another sign-in URL")
    assert_nobody_created(saml_realm)
    assert_signs_in(idp_initiated(client, saml_realm, idp, "jane@example.com"), client)


@pytest.mark.parametrize("drop", ["drop_conditions", "drop_audience_restriction"])
def test_assertion_without_audience_restriction_is_refused(client, saml_realm, idp, caplog, drop):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", **{drop: True})
    assert_refused(response, client, caplog, 403, "missing_audience", "does not say which application")
    assert_nobody_created(saml_realm)
    assert_signs_in(idp_initiated(client, saml_realm, idp, "jane@example.com"), client)


def test_assertion_also_restricted_to_another_audience_is_refused(client, saml_realm, idp, caplog):
    # SAML core §2.5.1.4: each AudienceRestriction must name us, not just one of them.
    response = idp_initiated(
        client, saml_realm, idp, "jane@example.com", extra_audience_restriction="https://other.example.com/sp"
    )
    assert_refused(response, client, caplog, 403, "wrong_audience", "addressed to another application")
    assert_nobody_created(saml_realm)
    assert_signs_in(idp_initiated(client, saml_realm, idp, "jane@example.com"), client)


@pytest.mark.parametrize("where", ["all", "subject_confirmation"])
def test_assertion_without_not_on_or_after_is_refused(client, saml_realm, idp, caplog, where):
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", drop_not_on_or_after=where)
    assert_refused(response, client, caplog, 403, "missing_expiry", "has no expiry time")
    assert_nobody_created(saml_realm)
    assert_signs_in(idp_initiated(client, saml_realm, idp, "jane@example.com"), client)


def test_assertion_is_remembered_as_used_until_it_expires(client, saml_realm, idp, idp_keys, caplog):
    # Valid for two hours through its bearer confirmation only (Conditions without NotOnOrAfter, which the profile
    # allows): a replay an hour and a half later must still be refused, so it is remembered at least that long.
    long_lived = TestIdP(idp_keys, idp.sp_metadata, lifetime_minutes=120)
    response = idp_initiated(client, saml_realm, long_lived, "jane@example.com", drop_not_on_or_after="conditions")
    assert_signs_in(response, client)
    remembered = SAMLConsumedAssertion.objects.get(realm=saml_realm)
    assert remembered.expires_at >= timezone.now() + timedelta(minutes=119)


@pytest.mark.parametrize(
    "sign_alg, digest_alg, sign_response, named",
    [
        (SIG_RSA_SHA1, DIGEST_SHA256, False, "RSA-SHA1 (signature algorithm)"),
        (SIG_RSA_SHA256, DIGEST_SHA1, False, "SHA-1 (digest algorithm)"),
        (SIG_RSA_SHA256, DIGEST_MD5, False, "MD5 (digest algorithm)"),
        # Response and assertion signed (pysaml2's IdP refuses to sign a response with MD5).
        (SIG_RSA_SHA1, DIGEST_SHA1, True, "RSA-SHA1 (signature algorithm) and SHA-1 (digest algorithm)"),
    ],
)
def test_weak_signature_algorithms_are_refused_unless_the_realm_allows_them(
    client, saml_realm, idp, caplog, sign_alg, digest_alg, named, sign_response
):
    weak = idp.response(
        user_attributes("jane@example.com"),
        name_id="jane@example.com",
        destination=f"http://testserver{acs_path(saml_realm)}",
        sp_entity_id=sp_entity_id(saml_realm),
        sign_alg=sign_alg,
        digest_alg=digest_alg,
        sign_response=sign_response,
    )
    xml = base64.b64decode(weak).decode()
    assert f'Algorithm="{sign_alg}"' in xml and f'Algorithm="{digest_alg}"' in xml
    response = client.post(acs_path(saml_realm), {"SAMLResponse": weak})
    assert_refused(response, client, caplog, 403, "weak_signature_algorithm", f"signed with {named}")
    assert_nobody_created(saml_realm)
    # The same response is genuine: a realm that opts in accepts it.
    saml_realm.allow_weak_signature_algorithms = True
    saml_realm.save()
    assert_signs_in(client.post(acs_path(saml_realm), {"SAMLResponse": weak}), client)


def test_sha256_signatures_are_accepted(client, saml_realm, idp):
    assert not saml_realm.allow_weak_signature_algorithms
    response = idp_initiated(
        client, saml_realm, idp, "jane@example.com", sign_alg=SIG_RSA_SHA256, digest_alg=DIGEST_SHA256
    )
    assert_signs_in(response, client)


def test_unknown_realm(client, db, caplog):
    missing = uuid.uuid4()
    response = client.get(f"/realms/{missing}/saml/login/")
    assert_refused(response, client, caplog, 404, "unknown_realm", "There is no realm at this address")
    response = client.post(f"/realms/{missing}/saml/acs/", {"SAMLResponse": "x"})
    assert_refused(response, client, caplog, 404, "unknown_realm", "There is no realm at this address")


def test_refusal_page_in_a_host_without_the_consoles_url_names_links_the_hosts_login_url(
    client, saml_realm, idp, settings, caplog
):
    """A host that embeds the apps has its own login (here Django's admin) and no URL named 'login'."""
    settings.ROOT_URLCONF = "tests.embedding.host_urls"
    settings.LOGIN_URL = "admin:login"
    response = client.post(acs_path(saml_realm), {"SAMLResponse": "bm90IHhtbA=="})
    assert_refused(response, client, caplog, 400, "invalid_response", "could not be read")
    assert 'href="/admin/login/"' in response.content.decode()


def test_sign_in_works_in_a_host_whose_middleware_requires_a_login_everywhere(client, saml_realm, idp, settings):
    """Django's LoginRequiredMiddleware (5.1+) sends every anonymous request to LOGIN_URL unless the view opts out:
    the SP metadata, the SAML login and the ACS are reached before there is a session."""
    settings.MIDDLEWARE = [*settings.MIDDLEWARE, "django.contrib.auth.middleware.LoginRequiredMiddleware"]
    assert client.get("/realms/").status_code == 302  # the console pages still need a login
    metadata = client.get(f"/realms/{saml_realm.pk}/saml/metadata/")
    assert metadata.status_code == 200
    assert f'entityID="{sp_entity_id(saml_realm)}"' in metadata.content.decode()
    response = sign_in(client, saml_realm, idp, "jane@example.com", next_url="/realms/")
    assert response.status_code == 302 and response["Location"] == "/realms/"
    assert logged_in_user(client).username == "jane@example.com"
    garbage = Client().post(acs_path(saml_realm), {"SAMLResponse": "bm90IHhtbA=="})
    assert garbage.status_code == 400  # the ACS answers, rather than redirecting to a login


def test_realm_not_enabled_for_login(client, saml_realm, idp, caplog):
    saml_response = idp.response(
        user_attributes("jane@example.com"),
        name_id="jane@example.com",
        destination=f"http://testserver{acs_path(saml_realm)}",
        sp_entity_id=sp_entity_id(saml_realm),
    )
    saml_realm.enabled_for_login = False
    saml_realm.save()
    response = client.get(f"/realms/{saml_realm.pk}/saml/login/")
    assert_refused(response, client, caplog, 403, "realm_not_enabled", "is not enabled for console sign-in")
    response = client.post(acs_path(saml_realm), {"SAMLResponse": saml_response})
    assert_refused(response, client, caplog, 403, "realm_not_enabled", "is not enabled for console sign-in")


def test_user_deactivated_by_scim_cannot_sign_in(client, saml_realm, idp, caplog):
    scim = SCIMClient(Client(), saml_realm, scim_token())
    user_id = scim.post("/Users", okta_user("jane@example.com")).json()["id"]
    deactivated = scim.patch(f"/Users/{user_id}", patch_op({"op": "replace", "value": {"active": False}}))
    assert deactivated.status_code == 200
    response = sign_in(client, saml_realm, idp, "jane@example.com")
    assert_refused(response, client, caplog, 403, "deactivated_user", "is deactivated")
    assert not ConsoleUserLink.objects.exists()


def test_console_account_disabled_by_hand_cannot_sign_in(client, saml_realm, idp, caplog):
    sign_in(client, saml_realm, idp, "jane@example.com")
    client.post("/logout/")
    User.objects.filter(username="jane@example.com").update(is_active=False)
    response = sign_in(client, saml_realm, idp, "jane@example.com")
    assert_refused(response, client, caplog, 403, "deactivated_user", "console account is disabled")


def test_existing_unlinked_console_account_is_not_taken_over(client, saml_realm, idp, caplog):
    existing = UserFactory(username="jane@example.com")
    response = sign_in(client, saml_realm, idp, "JANE@example.com")
    assert_refused(response, client, caplog, 409, "account_conflict", "already exists and is not linked")
    existing.refresh_from_db()
    assert existing.has_usable_password()
    assert not ConsoleUserLink.objects.exists()
    assert not RealmUser.objects.exists()  # nothing half-done


def test_garbage_response_is_a_clear_error(client, saml_realm, idp, caplog):
    response = client.post(acs_path(saml_realm), {"SAMLResponse": "bm90IHhtbA=="})
    assert response.status_code == 400
    assert_refused(response, client, caplog, 400, "invalid_response", "could not be read")
    response = client.post(acs_path(saml_realm), {})
    assert_refused(response, client, caplog, 400, "invalid_response", "No SAML response was posted")


def test_acs_answers_only_post(client, saml_realm, idp):
    assert client.get(acs_path(saml_realm)).status_code == 405


@pytest.mark.parametrize("sign_response", [True, False])
def test_okta_default_signing_response_and_assertion(client, saml_realm, idp, sign_response):
    response = sign_in(client, saml_realm, idp, "jane@example.com", sign_response=sign_response)
    assert response.status_code == 302
    assert logged_in_user(client).username == "jane@example.com"


class TokenOnlyBackend:
    """A host's backend that authenticates something else and restores no session (an API-key backend, say)."""

    def authenticate(self, request, **credentials):
        return None

    def get_user(self, user_id):
        return None


def test_sign_in_keeps_its_session_with_the_host_backends(client, saml_realm, idp, settings):
    """The session is opened with the first of the host's backends that restores the user on the next request."""
    settings.AUTHENTICATION_BACKENDS = [
        f"{__name__}.TokenOnlyBackend",
        "django.contrib.auth.backends.AllowAllUsersModelBackend",
    ]
    response = idp_initiated(client, saml_realm, idp, "jane@example.com", relay_state="/realms/")
    assert response.status_code == 302 and response["Location"] == "/realms/"
    assert client.session["_auth_user_backend"] == "django.contrib.auth.backends.AllowAllUsersModelBackend"
    # The next request is still signed in (a backend that cannot restore the user would drop the session).
    page = client.get("/")
    assert page.status_code == 200 and "jane@example.com" in page.content.decode()


@pytest.mark.parametrize("bad", ["jane\x00@example.com", "jane\ud800@example.com"])
def test_a_claim_no_account_can_store_is_refused(db, bad):
    """XML cannot carry these characters; were a parser to let one through, it is refused, never stored."""
    from types import SimpleNamespace

    from realms.services import saml_login

    realm = make_saml_realm()
    response = SimpleNamespace(ava={"username": ["jane@example.com"], "first_name": [bad]}, name_id=None)
    with pytest.raises(saml_login.InvalidResponse):
        saml_login.identity_from_response(realm, response)
    response.ava = {"username": ["jane@example.com"], "first_name": ["Jane"]}
    assert saml_login.identity_from_response(realm, response).first_name == "Jane"
