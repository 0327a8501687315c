"""The SAML service provider of a realm, built with pysaml2 (never hand-written XML)."""

from __future__ import annotations

import shutil

from django.http import HttpRequest
from saml2 import BINDING_HTTP_POST, BINDING_HTTP_REDIRECT
from saml2.client import Saml2Client
from saml2.config import SPConfig
from saml2.metadata import entity_descriptor, metadata_tostring_fix
from saml2.saml import NAMEID_FORMAT_EMAILADDRESS, NAMEID_FORMAT_UNSPECIFIED

from . import urls_helpers
from .conf import app_settings
from .models import Realm


def xmlsec_binary() -> str | None:
    """xmlsec1 (Debian package xmlsec1), which pysaml2 runs to check signatures; None when it is not installed."""
    return shutil.which("xmlsec1")


def sp_settings(realm: Realm, request: HttpRequest | None = None) -> dict:
    entity_id = urls_helpers.saml_metadata_url(realm.pk, request)
    acs_url = urls_helpers.saml_acs_url(realm.pk, request)
    config: dict = {
        "entityid": entity_id,
        "service": {
            "sp": {
                "name": f"Realm {realm.name}",
                "endpoints": {
                    "assertion_consumer_service": [(acs_url, BINDING_HTTP_POST)],
                },
                "allow_unsolicited": realm.allow_idp_initiated_login,
                "authn_requests_signed": False,
                "want_assertions_signed": True,
                "want_response_signed": False,
                "name_id_format": [NAMEID_FORMAT_UNSPECIFIED, NAMEID_FORMAT_EMAILADDRESS],
            }
        },
        "allow_unknown_attributes": True,
        # Clock skew tolerated between the IdP and us when checking NotBefore/NotOnOrAfter, in seconds.
        "accepted_time_diff": app_settings.SAML_ACCEPTED_TIME_DIFF,
    }
    binary = xmlsec_binary()
    if binary:
        config["xmlsec_binary"] = binary
    if realm.idp_metadata:
        config["metadata"] = {"inline": [realm.idp_metadata]}
    return config


def sp_config(realm: Realm, request: HttpRequest | None = None, *, with_idp: bool = True) -> SPConfig:
    settings = sp_settings(realm, request)
    if not with_idp:
        settings.pop("metadata", None)
    config = SPConfig()
    config.load(settings)
    return config


def sp_client(realm: Realm, request: HttpRequest | None = None) -> Saml2Client:
    """A pysaml2 SP client for the realm, with the realm's IdP metadata loaded (signature checks use its certs)."""
    return Saml2Client(config=sp_config(realm, request))


def sp_metadata_xml(realm: Realm, request: HttpRequest | None = None) -> str:
    config = sp_config(realm, request, with_idp=False)
    descriptor = entity_descriptor(config)
    return metadata_tostring_fix(descriptor, {"xs": "http://www.w3.org/2001/XMLSchema"}, None).decode("utf-8")


__all__ = ["BINDING_HTTP_POST", "BINDING_HTTP_REDIRECT", "sp_client", "sp_config", "sp_metadata_xml", "sp_settings"]
