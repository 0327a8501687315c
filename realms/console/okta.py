"""Connect Okta: everything the Okta application's Provisioning tab needs, from the realm's page, in one action.

The same as `manage.py scim_quickstart`, from the browser: SCIM on, the group with the eight SCIM permissions, a
service account in it, and an API token restricted to the realm, then the values to paste into each Okta field, side
by side, the token shown once (POST, then a redirect to the realm's page, which shows it on its first display).
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass

from django.contrib import messages
from django.core.exceptions import ValidationError
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.views import View

from ..models import APIToken, Realm
from ..services import connect_okta
from ..services.setup import TokenAlreadyIssued
from ..tokens import hash_token
from . import shown_once
from .mixins import ConsoleMixin

# Creating the group, the account and the token; turning SCIM on too when it is off.
CONNECT_PERMISSIONS = ("realms.add_serviceaccount", "realms.add_apitoken", "auth.add_group", "auth.change_group")
SCIM_ON_PERMISSION = "realms.change_realm"

# Okta's "Supported provisioning actions" to tick (docs/okta-scim.md, step 4).
OKTA_PROVISIONING_ACTIONS = (
    "Import New Users and Profile Updates",
    "Push New Users",
    "Push Profile Updates",
    "Push Groups",
)


@dataclass(frozen=True)
class OktaField:
    """One field of the Integration form of Okta's Provisioning tab and what goes into it."""

    label: str
    value: str
    element_id: str  # the id of the value on the page (its copy button targets it)
    copy: bool = True
    help: str = ""
    ticks: tuple[str, ...] = ()  # checkboxes to tick in Okta, rather than text to paste


def okta_fields(scim_root_url: str) -> list[OktaField]:
    """The fields of Okta's Provisioning tab but the token (which is shown once, on its own row)."""
    return [
        OktaField(
            "SCIM connector base URL",
            scim_root_url,
            "scim-root-url",
            help="Without a trailing slash, as shown.",
        ),
        OktaField(
            "Unique identifier field for users",
            "userName",
            "okta-unique-identifier",
        ),
        OktaField(
            "Supported provisioning actions",
            ", ".join(OKTA_PROVISIONING_ACTIONS),
            "okta-provisioning-actions",
            copy=False,
            ticks=OKTA_PROVISIONING_ACTIONS,
        ),
        OktaField("Authentication Mode", "HTTP Header", "okta-authentication-mode", copy=False, ticks=("HTTP Header",)),
    ]


# "Issue a new token and revoke the old one after N days": Okta needs a moment to take the new token.
RETIRE_AFTER_CHOICES = ((0, "now"), (1, "1 day"), (2, "2 days"), (7, "7 days"), (30, "30 days"))
RETIRE_AFTER_DEFAULT = 1


def missing_connect_permissions(user, realm: Realm) -> list[str]:
    wanted = CONNECT_PERMISSIONS if realm.scim_enabled else (*CONNECT_PERMISSIONS, SCIM_ON_PERMISSION)
    return [perm for perm in wanted if not user.has_perm(perm)]


def handover_name(realm: Realm) -> str:
    return f"okta-{realm.pk}"


def realm_page_path(realm: Realm) -> str:
    return reverse("realms:detail", args=[realm.pk])


def issued_connection(request: HttpRequest, realm: Realm) -> tuple[str, APIToken] | None:
    """The token Connect Okta just issued for this realm and its secret, on the page's first display only."""
    secret = shown_once.take(request, handover_name(realm))
    if secret is None:
        return None
    token = APIToken.objects.select_related("user").filter(key_hash=hash_token(secret), realm=realm).first()
    if token is None or token.status != "active":
        return None
    return secret, token


class ConnectOktaView(ConsoleMixin, View):
    """POST only: creates what is missing, issues the token, and redirects to the realm's page, which shows it."""

    http_method_names = ["post"]
    section = "realms"

    def has_permission(self) -> bool:
        self.realm = get_object_or_404(Realm, pk=self.kwargs["pk"])
        return not missing_connect_permissions(self.request.user, self.realm)

    def post(self, request: HttpRequest, pk) -> HttpResponse:
        realm = self.realm
        action = request.POST.get("action", "connect")
        retire_after = None
        if action == "rotate":
            try:
                days = int(request.POST.get("retire_after_days", RETIRE_AFTER_DEFAULT))
            except ValueError:
                days = -1
            if days not in dict(RETIRE_AFTER_CHOICES):
                messages.error(request, "Choose when the old token stops working.")
                return redirect(f"{realm_page_path(realm)}#connect-okta")
            retire_after = datetime.timedelta(days=days)
        try:
            connection = connect_okta(
                realm, created_by=request.user, retire_after=retire_after, issue_token=action != "scim_on"
            )
        except TokenAlreadyIssued as exc:
            messages.error(request, "No token issued. " + "; ".join(exc.messages))
            return redirect(f"{realm_page_path(realm)}#connect-okta")
        except ValidationError as exc:
            messages.error(request, "Okta could not be connected: " + "; ".join(exc.messages))
            return redirect("realms:detail", pk=realm.pk)
        done = []
        if connection.scim_turned_on:
            done.append("SCIM turned on")
        account = connection.service_account.username
        if connection.account_created:
            done.append(f"service account {account} created in group {connection.group.name}")
        elif connection.account_reactivated:
            done.append(f"service account {account} reactivated")
        path = realm_page_path(realm)
        if connection.token is None:
            if connection.scim_turned_on:
                messages.success(request, "SCIM turned on: Okta's calls with the realm's token are answered again.")
            else:
                messages.info(request, "SCIM was already on: nothing changed.")
            return redirect(f"{path}#connect-okta")
        done.append(f"token {connection.token.name} issued for {account}, restricted to this realm")
        if connection.retired:
            count = len(connection.retired)
            old = f"the old token{'s' if count != 1 else ''}"
            days = retire_after.days if retire_after is not None else 0
            if days > 0:
                done.append(f"{old} stop{'s' if count == 1 else ''} working in {days} day{'s' if days != 1 else ''}")
            else:
                done.append(f"{old} revoked")
        messages.success(request, "Okta connection ready: " + ", ".join(done) + ". Copy the token now.")
        response = redirect(f"{path}#connect-okta")
        shown_once.hand_over(request, response, handover_name(realm), connection.secret, path)
        return response
