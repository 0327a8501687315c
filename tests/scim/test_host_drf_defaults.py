"""A host's REST_FRAMEWORK defaults never change how the apps' API answers.

DRF binds each view policy from the host's defaults when rest_framework.views is imported, so `override_settings`
cannot show the harm; what can be checked is that every view the apps serve declares the policies that decide its
answers itself. (Caught by .ci/embed: a host with DEFAULT_VERSIONING_CLASS and ALLOWED_VERSIONS got 406 on every
SCIM request, since Okta sends no version.)
"""

import pytest
from django.urls import URLPattern, URLResolver, get_resolver
from rest_framework.views import APIView

# What decides whether a request is answered and how. `throttle_classes` of /api/whoami is left to the host: it
# is the benchmarks' floor, and a host may rate-limit it as it likes.
POLICIES = {
    "authentication_classes",
    "permission_classes",
    "renderer_classes",
    "parser_classes",
    "content_negotiation_class",
    "throttle_classes",
    "versioning_class",
}
LEFT_TO_THE_HOST = {"WhoAmIView": {"parser_classes", "content_negotiation_class", "throttle_classes"}}


def api_views() -> list[type[APIView]]:
    views, pending = set(), list(get_resolver().url_patterns)
    while pending:
        entry = pending.pop()
        if isinstance(entry, URLResolver):
            pending.extend(entry.url_patterns)
        elif isinstance(entry, URLPattern):
            view = getattr(entry.callback, "cls", None) or getattr(entry.callback, "view_class", None)
            if (
                isinstance(view, type)
                and issubclass(view, APIView)
                and view.__module__.startswith(("scim.", "realms."))
            ):
                views.add(view)
    return sorted(views, key=lambda v: v.__name__)


def declared_by_the_app(view: type[APIView], name: str) -> bool:
    owner = next(klass for klass in view.__mro__ if name in vars(klass))
    return owner.__module__.split(".")[0] in {"scim", "realms"}


def test_the_api_views_are_found():
    names = {v.__name__ for v in api_views()}
    assert {"UserViewSet", "GroupViewSet", "ServiceProviderConfigViewSet", "SchemaViewSet", "WhoAmIView"} <= names


@pytest.mark.parametrize("view", api_views(), ids=lambda v: v.__name__)
def test_every_api_view_declares_its_drf_policies(view):
    expected = POLICIES - LEFT_TO_THE_HOST.get(view.__name__, set())
    assert sorted(name for name in expected if not declared_by_the_app(view, name)) == []
