"""A server without xmlsec1 (Debian package xmlsec1), which pysaml2 runs to check SAML signatures.

The console still serves everything else; SAML sign-in says plainly that the server lacks xmlsec1 (not that the
realm's settings are wrong), and the realm's page warns its administrators. These tests hide xmlsec1 by giving the
process a PATH without it, so they run the same on machines with and without the package.
"""

from __future__ import annotations

import logging

import pytest
from django.contrib.sessions.models import Session

from realms.saml import xmlsec_binary

from .saml_idp import acs_path, make_saml_realm


@pytest.fixture
def saml_realm(db, idp_metadata):
    return make_saml_realm(idp_metadata=idp_metadata)


@pytest.fixture
def no_xmlsec1(monkeypatch, tmp_path):
    monkeypatch.setenv("PATH", str(tmp_path))
    assert xmlsec_binary() is None


def assert_unavailable(response, caplog) -> None:
    assert response.status_code == 503, response.content[:500]
    page = response.content.decode()
    assert 'data-code="xmlsec1_missing"' in page
    assert "xmlsec1 program is not installed" in page and "Debian package xmlsec1" in page
    assert "Back to the login page" in page
    assert not Session.objects.exists()
    assert any(r.name == "realms.saml" and "xmlsec1_missing" in r.getMessage() for r in caplog.records)


def test_sp_initiated_sign_in_says_the_server_lacks_xmlsec1(client, saml_realm, no_xmlsec1, caplog):
    caplog.set_level(logging.WARNING, "realms.saml")
    assert_unavailable(client.get(f"/realms/{saml_realm.pk}/saml/login/"), caplog)


def test_a_response_posted_to_the_acs_says_the_server_lacks_xmlsec1(client, saml_realm, no_xmlsec1, caplog):
    caplog.set_level(logging.WARNING, "realms.saml")
    assert_unavailable(client.post(acs_path(saml_realm), {"SAMLResponse": "bm90IHhtbA=="}), caplog)


def test_the_realm_page_warns_that_sign_in_is_unavailable(admin_client, saml_realm, no_xmlsec1):
    page = admin_client.get(f"/realms/{saml_realm.pk}/").content.decode()
    assert 'id="saml-xmlsec1-missing"' in page
    assert "apt-get install xmlsec1" in page
    # What does not need xmlsec1 still works: the SP metadata an Okta admin pastes into the Okta app.
    assert admin_client.get(f"/realms/{saml_realm.pk}/saml/metadata/").status_code == 200


def test_no_warning_where_xmlsec1_is_installed(admin_client, saml_realm, monkeypatch, tmp_path):
    fake = tmp_path / "xmlsec1"
    fake.write_text("#!/bin/sh\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", str(tmp_path))
    page = admin_client.get(f"/realms/{saml_realm.pk}/").content.decode()
    assert 'id="saml"' in page
    assert "saml-xmlsec1-missing" not in page
