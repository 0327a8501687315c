"""A real SAML identity provider for the tests: pysaml2's IdP Server, with keys and certificates made at test time.

It plays Okta's part: publishes its metadata (pasted into the realm), reads the AuthnRequest the console redirects
to, and answers with a signed response, which the test POSTs to the ACS as the browser would.
"""

from __future__ import annotations

import base64
import datetime
import shutil
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part
from saml2.time_util import a_while_ago

from ..system_programs import require_program

IDP_ENTITY_ID = "http://www.okta.com/exk-test-idp"
IDP_SSO_URL = "https://example.okta.com/app/test/exk-test-idp/sso/saml"
AUTHN = {"class_ref": "urn:oasis:names:tc:SAML:2.0:ac:classes:PasswordProtectedTransport", "authn_auth": IDP_ENTITY_ID}


@dataclass(frozen=True)
class KeyPair:
    key_file: Path
    cert_file: Path


def make_key_pair(directory: Path, name: str) -> KeyPair:
    """An RSA key and a self-signed certificate, written as PEM files (what xmlsec1 reads)."""
    directory.mkdir(parents=True, exist_ok=True)
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    subject = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, name)])
    now = datetime.datetime.now(datetime.UTC)
    cert = (
        x509.CertificateBuilder()
        .subject_name(subject)
        .issuer_name(subject)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - datetime.timedelta(days=1))
        .not_valid_after(now + datetime.timedelta(days=365))
        .sign(key, hashes.SHA256())
    )
    key_file = directory / f"{name}.key"
    cert_file = directory / f"{name}.crt"
    key_file.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM, serialization.PrivateFormat.TraditionalOpenSSL, serialization.NoEncryption()
        )
    )
    cert_file.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    return KeyPair(key_file, cert_file)


class TestIdP:
    """An Okta-like IdP. `lifetime_minutes` sets the assertions' validity (negative: already expired)."""

    __test__ = False  # not a pytest test class

    def __init__(self, keys: KeyPair, sp_metadata: str, lifetime_minutes: int = 5) -> None:
        require_program("xmlsec1", "xmlsec1", "SAML tests (the IdP signs and the console verifies with it)")
        self.keys = keys
        self.sp_metadata = sp_metadata
        self.lifetime_minutes = lifetime_minutes
        self.server = Server(config=self._config())

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        config.load(
            {
                "entityid": IDP_ENTITY_ID,
                "service": {
                    "idp": {
                        "endpoints": {"single_sign_on_service": [(IDP_SSO_URL, BINDING_HTTP_REDIRECT)]},
                        "policy": {
                            "default": {
                                "lifetime": {"minutes": self.lifetime_minutes},
                                "attribute_restrictions": None,
                                "name_form": NAME_FORMAT_BASIC,
                            }
                        },
                        "name_id_format": [NAMEID_FORMAT_EMAILADDRESS],
                    }
                },
                "key_file": str(self.keys.key_file),
                "cert_file": str(self.keys.cert_file),
                "xmlsec_binary": shutil.which("xmlsec1"),
                "metadata": {"inline": [self.sp_metadata]},
                "allow_unknown_attributes": True,
            }
        )
        return config

    @property
    def metadata(self) -> str:
        """The IdP metadata XML, as Okta's "Identity Provider metadata" link serves it."""
        descriptor = entity_descriptor(self.server.config)
        return metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"}, None).decode()

    def read_authn_request(self, redirect_url: str) -> tuple[dict, str]:
        """Parse the AuthnRequest of an SP redirect; return the response arguments and the RelayState."""
        parsed = urlparse(redirect_url)
        assert f"{parsed.scheme}://{parsed.netloc}{parsed.path}" == IDP_SSO_URL, redirect_url
        query = parse_qs(parsed.query)
        request = self.server.parse_authn_request(query["SAMLRequest"][0], BINDING_HTTP_REDIRECT)
        return self.server.response_args(request.message, [BINDING_HTTP_POST]), query.get("RelayState", [""])[0]

    def response(
        self,
        attributes: dict[str, str],
        *,
        name_id: str,
        destination: str,
        sp_entity_id: str,
        in_response_to: str | None = None,
        sign_assertion: bool = True,
        sign_response: bool = False,
        issued_minutes_ago: int = 0,
    ) -> str:
        """A base64-encoded SAMLResponse, as the browser POSTs it to the ACS.

        `issued_minutes_ago` dates the assertion back (NotBefore, NotOnOrAfter and the bearer confirmation move
        together, as if the IdP had issued it then), re-signed with the IdP's key: an expired but genuine assertion.
        """
        if issued_minutes_ago:
            xml = self.server.create_authn_response(
                {k: [v] for k, v in attributes.items()},
                in_response_to=in_response_to,
                destination=destination,
                sp_entity_id=sp_entity_id,
                name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
                authn=AUTHN,
                sign_assertion=False,
            )
            return base64.b64encode(self._backdate(str(xml), issued_minutes_ago).encode()).decode()
        xml = self.server.create_authn_response(
            {k: [v] for k, v in attributes.items()},
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            authn=AUTHN,
            sign_assertion=sign_assertion,
            sign_response=sign_response,
        )
        return base64.b64encode(str(xml).encode()).decode()

    def _backdate(self, xml: str, minutes: int) -> str:
        response = samlp.response_from_string(xml)
        assertion = response.assertion[0]
        issued = a_while_ago(minutes=minutes)
        expired = a_while_ago(minutes=minutes - self.lifetime_minutes)
        assertion.issue_instant = issued
        assertion.conditions.not_before = issued
        assertion.conditions.not_on_or_after = expired
        for confirmation in assertion.subject.subject_confirmation:
            confirmation.subject_confirmation_data.not_on_or_after = expired
        assertion.signature = pre_signature_part(assertion.id, self.server.sec.my_cert, 1)
        return self.server.sec.sign_statement(str(response), node_name=class_name(assertion), node_id=assertion.id)

    def answer(self, redirect_url: str, attributes: dict[str, str], name_id: str, **kwargs) -> tuple[str, str]:
        """SP-initiated: answer the AuthnRequest in `redirect_url`; return (SAMLResponse, RelayState) to POST."""
        args, relay_state = self.read_authn_request(redirect_url)
        saml_response = self.response(
            attributes,
            name_id=name_id,
            destination=args["destination"],
            sp_entity_id=args["sp_entity_id"],
            in_response_to=args["in_response_to"],
            **kwargs,
        )
        return saml_response, relay_state


# ---------------------------------------------------------------------------------------------------- fixtures


def user_attributes(username: str, first: str = "Jane", last: str = "Doe") -> dict[str, str]:
    """The attribute statements of an Okta app configured as docs/saml.md says."""
    return {"username": username, "email": username, "first_name": first, "last_name": last}


def acs_path(realm) -> str:
    return f"/realms/{realm.pk}/saml/acs/"


def sp_entity_id(realm) -> str:
    return f"http://testserver/realms/{realm.pk}/saml/metadata/"


def sign_in(client, realm, idp: TestIdP, username: str, next_url: str | None = None, **response_kwargs):
    """The whole SP-initiated flow, as a browser follows it: login URL → IdP → POST to the ACS."""
    response = client.get(f"/realms/{realm.pk}/saml/login/", {"next": next_url} if next_url else {})
    assert response.status_code == 302, response.content[:500]
    saml_response, relay_state = idp.answer(
        response["Location"], user_attributes(username), name_id=username, **response_kwargs
    )
    return client.post(acs_path(realm), {"SAMLResponse": saml_response, "RelayState": relay_state})


def idp_initiated(client, realm, idp: TestIdP, username: str, relay_state: str = "", **response_kwargs):
    """IdP-initiated: the user clicks the app's tile in Okta; the IdP posts an unsolicited response."""
    kwargs = {"destination": f"http://testserver{acs_path(realm)}", "sp_entity_id": sp_entity_id(realm)}
    kwargs.update(response_kwargs)
    saml_response = idp.response(user_attributes(username), name_id=username, **kwargs)
    return client.post(acs_path(realm), {"SAMLResponse": saml_response, "RelayState": relay_state})


def make_saml_realm(**kwargs):
    """An Okta realm enabled for login (its IdP metadata comes from `install_idp`)."""
    from ..factories import RealmFactory

    defaults = {"name": "Okta", "scim_enabled": True, "enabled_for_login": True, "login_session_expiry": 3600}
    return RealmFactory(**{**defaults, **kwargs})


def install_idp(client, realm, keys: KeyPair) -> TestIdP:
    """The IdP, with the realm's SP metadata (fetched from the console) and its metadata pasted into the realm."""
    sp_metadata = client.get(f"/realms/{realm.pk}/saml/metadata/").content.decode()
    test_idp = TestIdP(keys, sp_metadata)
    realm.idp_metadata = test_idp.metadata
    realm.save()
    return test_idp
