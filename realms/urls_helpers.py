"""Absolute URLs of a realm (SCIM root, SAML endpoints), inside or outside a request."""

from __future__ import annotations

import functools
import ipaddress
from urllib.parse import urlsplit

from django.core.signals import setting_changed
from django.dispatch import receiver
from django.http import HttpRequest
from django.urls import get_script_prefix, reverse

from .conf import app_settings


def base_url(request: HttpRequest | None = None) -> str:
    """PUBLIC_BASE_URL when set (stable SAML entity ids behind proxies), else the request's, else the default."""
    public = (app_settings.PUBLIC_BASE_URL or "").rstrip("/")
    if public:
        return public
    if request is not None:
        return f"{request.scheme}://{request.get_host()}"
    return app_settings.DEFAULT_BASE_URL.rstrip("/")


def absolute(path: str, request: HttpRequest | None = None) -> str:
    return f"{base_url(request)}{path}"


@functools.lru_cache(maxsize=1024)
def _scim_root_path(realm_pk, script_prefix: str) -> str:
    # Shown without a trailing slash: Okta has trouble with a root URL ending in one (idp-notes).
    return reverse("scim:root", kwargs={"realm_pk": realm_pk}).rstrip("/")


def scim_root_path(realm_pk) -> str:
    """Reversed once per realm and script prefix: every SCIM response builds its links from it."""
    return _scim_root_path(realm_pk, get_script_prefix())


@receiver(setting_changed)
def _forget_paths(*, setting: str, **kwargs) -> None:
    if setting == "ROOT_URLCONF":
        _scim_root_path.cache_clear()


def scim_root_url(realm_pk, request: HttpRequest | None = None) -> str:
    return absolute(scim_root_path(realm_pk), request)


def saml_metadata_url(realm_pk, request: HttpRequest | None = None) -> str:
    return absolute(reverse("realms:saml_metadata", kwargs={"pk": realm_pk}), request)


def saml_acs_url(realm_pk, request: HttpRequest | None = None) -> str:
    return absolute(reverse("realms:saml_acs", kwargs={"pk": realm_pk}), request)


_LOCAL_NAMES = {"localhost", "localhost.localdomain", "ip6-localhost"}


def unreachable_reason(url: str) -> str | None:
    """Why an IdP's cloud (Okta's) could not call `url`, or None when nothing says it cannot.

    The SCIM root URL is built from PUBLIC_BASE_URL or from the address the admin browses the console at: a console
    tried on a laptop shows http://127.0.0.1:8000/…, which Okta's servers can never reach."""
    parts = urlsplit(url)
    host = (parts.hostname or "").lower()
    local = host in _LOCAL_NAMES or host.endswith((".localhost", ".local"))
    if not local:
        try:
            address = ipaddress.ip_address(host)
        except ValueError:
            address = None
        local = address is not None and (
            address.is_loopback or address.is_private or address.is_link_local or address.is_unspecified
        )
    if local:
        return f"{host} is a local or private address: Okta's servers cannot reach it."
    if parts.scheme != "https":
        return "It is plain HTTP: Okta expects https://, and the API token would cross the network in clear."
    return None
