"""A real SAML identity provider for the tests: pysaml2's IdP Server, with keys and certificates made at test time.

It plays Okta's part: publishes its metadata (pasted into the realm), reads the AuthnRequest the console redirects
to, and answers with a signed response (RSA-SHA256 / SHA-256, Okta's defaults), which the test POSTs to the ACS as
the browser would. It can also answer with what a misconfigured or hostile IdP sends (see `TestIdP.response`).
"""

from __future__ import annotations

import base64
import datetime
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from cryptography import x509
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from cryptography.x509.oid import NameOID
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT, class_name, saml, samlp
from saml2.config import IdPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAME_FORMAT_BASIC, NAMEID_FORMAT_EMAILADDRESS, NameID
from saml2.server import Server
from saml2.sigver import pre_signature_part
from saml2.time_util import a_while_ago
from saml2.xmldsig import DIGEST_SHA256, SIG_RSA_SHA256

try:
    from ..system_programs import require_program
except ImportError:  # loaded by its path outside the test suite (tests/embedding/exercise.py): no pytest there

    def require_program(program: str, package: str, purpose: str) -> str:
        found = shutil.which(program)
        if found is None:
            raise RuntimeError(f"{purpose} need {program} (Debian package {package})")
        return found


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
    """An Okta-like IdP. `lifetime_minutes` sets the assertions' validity (negative: already expired).

    `sp_metadata` may be empty: such an IdP publishes its metadata (to create a realm with) but answers no SP; an
    IdP made later with the same keys and the realm's SP metadata publishes the same metadata.
    """

    __test__ = False  # not a pytest test class

    def __init__(self, keys: KeyPair, sp_metadata: str, lifetime_minutes: int = 5) -> None:
        require_program("xmlsec1", "xmlsec1", "SAML tests (the IdP signs and the console verifies with it)")
        self.keys = keys
        self.sp_metadata = sp_metadata
        self.lifetime_minutes = lifetime_minutes
        self.server = Server(config=self._config())

    def _config(self) -> IdPConfig:
        config = IdPConfig()
        settings = {
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
                    # Okta's defaults (pysaml2's own are RSA-SHA1 / SHA-1).
                    "signing_algorithm": SIG_RSA_SHA256,
                    "digest_algorithm": DIGEST_SHA256,
                }
            },
            "key_file": str(self.keys.key_file),
            "cert_file": str(self.keys.cert_file),
            "xmlsec_binary": shutil.which("xmlsec1"),
            "allow_unknown_attributes": True,
        }
        if self.sp_metadata:  # without it, the IdP can publish its own metadata but answer no SP yet
            settings["metadata"] = {"inline": [self.sp_metadata]}
        config.load(settings)
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
        recipient: str | None = None,
        drop_recipient: bool = False,
        drop_conditions: bool = False,
        drop_audience_restriction: bool = False,
        extra_audience_restriction: str | None = None,
        drop_not_on_or_after: str | None = None,
        sign_alg: str | None = None,
        digest_alg: str | None = None,
    ) -> str:
        """A base64-encoded SAMLResponse, as the browser POSTs it to the ACS.

        `sign_alg`/`digest_alg` (xmldsig URIs) replace RSA-SHA256/SHA-256. The other options change the assertion
        the way a misconfigured or hostile IdP would, and re-sign it with the IdP's key (a genuine signature over
        the changed assertion; the Response itself is then unsigned):

        - `issued_minutes_ago` dates it back (NotBefore, NotOnOrAfter and the bearer confirmation move together, as
          if the IdP had issued it then): an expired but genuine assertion;
        - `recipient` replaces the bearer SubjectConfirmationData's Recipient (Destination stays `destination`);
          `drop_recipient` removes it;
        - `drop_conditions` removes Conditions; `drop_audience_restriction` removes its AudienceRestriction;
          `extra_audience_restriction` adds a second AudienceRestriction naming only that audience;
        - `drop_not_on_or_after`: "conditions", "subject_confirmation" or "all" removes NotOnOrAfter from there.
        """
        edits = self._edits(
            issued_minutes_ago=issued_minutes_ago,
            recipient=recipient,
            drop_recipient=drop_recipient,
            drop_conditions=drop_conditions,
            drop_audience_restriction=drop_audience_restriction,
            extra_audience_restriction=extra_audience_restriction,
            drop_not_on_or_after=drop_not_on_or_after,
        )
        xml = self.server.create_authn_response(
            {k: [v] for k, v in attributes.items()},
            in_response_to=in_response_to,
            destination=destination,
            sp_entity_id=sp_entity_id,
            name_id=NameID(format=NAMEID_FORMAT_EMAILADDRESS, text=name_id),
            authn=AUTHN,
            sign_assertion=sign_assertion and not edits,
            sign_response=sign_response and not edits,
            sign_alg=sign_alg,
            digest_alg=digest_alg,
        )
        if edits:
            assert sign_assertion and not sign_response, "edited assertions are re-signed, responses are not"
            xml = self._resign(str(xml), edits, sign_alg or SIG_RSA_SHA256, digest_alg or DIGEST_SHA256)
        return base64.b64encode(str(xml).encode()).decode()

    def _edits(
        self,
        *,
        issued_minutes_ago: int,
        recipient: str | None,
        drop_recipient: bool,
        drop_conditions: bool,
        drop_audience_restriction: bool,
        extra_audience_restriction: str | None,
        drop_not_on_or_after: str | None,
    ) -> list[Callable[[saml.Assertion], None]]:
        edits: list[Callable[[saml.Assertion], None]] = []

        def confirmations(assertion: saml.Assertion) -> list[saml.SubjectConfirmationData]:
            return [c.subject_confirmation_data for c in assertion.subject.subject_confirmation]

        if issued_minutes_ago:

            def backdate(assertion: saml.Assertion) -> None:
                issued = a_while_ago(minutes=issued_minutes_ago)
                expired = a_while_ago(minutes=issued_minutes_ago - self.lifetime_minutes)
                assertion.issue_instant = issued
                assertion.conditions.not_before = issued
                assertion.conditions.not_on_or_after = expired
                for data in confirmations(assertion):
                    data.not_on_or_after = expired

            edits.append(backdate)
        if recipient is not None or drop_recipient:

            def set_recipient(assertion: saml.Assertion) -> None:
                for data in confirmations(assertion):
                    data.recipient = None if drop_recipient else recipient

            edits.append(set_recipient)
        if drop_conditions:
            edits.append(lambda assertion: setattr(assertion, "conditions", None))
        if drop_audience_restriction:
            edits.append(lambda assertion: setattr(assertion.conditions, "audience_restriction", []))
        if extra_audience_restriction:

            def add_restriction(assertion: saml.Assertion) -> None:
                restriction = saml.AudienceRestriction(audience=[saml.Audience(text=extra_audience_restriction)])
                assertion.conditions.audience_restriction.append(restriction)

            edits.append(add_restriction)
        if drop_not_on_or_after:
            assert drop_not_on_or_after in {"conditions", "subject_confirmation", "all"}, drop_not_on_or_after

            def drop_expiry(assertion: saml.Assertion) -> None:
                if drop_not_on_or_after in {"conditions", "all"}:
                    assertion.conditions.not_on_or_after = None
                if drop_not_on_or_after in {"subject_confirmation", "all"}:
                    for data in confirmations(assertion):
                        data.not_on_or_after = None

            edits.append(drop_expiry)
        return edits

    def _resign(self, xml: str, edits: list[Callable[[saml.Assertion], None]], sign_alg: str, digest_alg: str) -> str:
        """Apply `edits` to the response's assertion and sign it again with the IdP's key."""
        response = samlp.response_from_string(xml)
        assertion = response.assertion[0]
        for edit in edits:
            edit(assertion)
        assertion.signature = pre_signature_part(
            assertion.id, self.server.sec.my_cert, 1, digest_alg=digest_alg, sign_alg=sign_alg
        )
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
