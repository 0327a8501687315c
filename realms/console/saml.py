"""SAML sign-in views: the console login page's realm buttons, SP-initiated login and the ACS.

Views parse the request, call `realms.services.saml_login` and render the result. Every refusal is a
`SAMLLoginError`, rendered by `render_login_error` as a page that says what happened (never a 500) and logged.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.contrib.auth import views as auth_views
from django.contrib.auth.decorators import login_not_required
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render, resolve_url
from django.views.decorators.cache import never_cache
from django.views.decorators.csrf import csrf_exempt
from django.views.decorators.http import require_GET, require_POST

from ..services import saml_login

logger = logging.getLogger("realms.saml")


def render_login_error(request: HttpRequest, error: saml_login.SAMLLoginError, realm_pk=None) -> HttpResponse:
    """The one handler of sign-in refusals: a clear page with the error's status, and a warning in the log."""
    logger.warning(
        "SAML sign-in refused: %s (realm %s, client %s): %s%s",
        error.code,
        realm_pk,
        request.META.get("REMOTE_ADDR", ""),
        error.message,
        f" [{error.detail}]" if error.detail else "",
    )
    # The host's login page (settings.LOGIN_URL): the apps own no login view and name no URL of the host.
    context = {"error": error, "login_url": resolve_url(settings.LOGIN_URL)}
    return render(request, "realms/saml/error.html", context, status=error.status)


class ConsoleLoginView(auth_views.LoginView):
    """The console login page, with a "Sign in with <realm>" button for each realm enabled for login."""

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["sso_realms"] = saml_login.login_realms()
        return context


@login_not_required  # signing in is how a user gets a session (a host's LoginRequiredMiddleware must let it by)
@never_cache
@require_GET
def saml_login_view(request: HttpRequest, pk) -> HttpResponse:
    """SP-initiated login: redirect to the IdP with an AuthnRequest (HTTP-Redirect binding)."""
    try:
        realm = saml_login.get_login_realm(pk)
        url = saml_login.begin_login(realm, request, request.GET.get("next"))
    except saml_login.SAMLLoginError as error:
        return render_login_error(request, error, pk)
    return redirect(url)


@login_not_required
@never_cache
@csrf_exempt  # the IdP posts cross-site; the signed assertion, not a CSRF token, authenticates this POST
@require_POST
def saml_acs(request: HttpRequest, pk) -> HttpResponse:
    """Assertion consumer service (HTTP-POST binding), for SP- and IdP-initiated logins."""
    try:
        realm = saml_login.get_login_realm(pk)
        result = saml_login.complete_login(
            realm, request, request.POST.get("SAMLResponse", ""), request.POST.get("RelayState", "")
        )
    except saml_login.SAMLLoginError as error:
        return render_login_error(request, error, pk)
    return redirect(result.redirect_url)
