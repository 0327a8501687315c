"""Console pages for service accounts and their API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth import get_user_model
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView, TemplateView

from .. import urls_helpers
from ..models import APIToken, ServiceAccount
from ..services import accounts as services
from . import access, shown_once
from .forms import ServiceAccountForm, TokenForm
from .mixins import ConsoleMixin
from .okta import okta_fields


class ServiceAccountPage(ConsoleMixin):
    section = "service_accounts"


class ServiceAccountListView(ServiceAccountPage, ListView):
    permission_required = "realms.view_serviceaccount"
    template_name = "realms/accounts/service_account_list.html"
    paginate_by = 50

    def get_queryset(self):
        now = timezone.now()
        tokens = "user__realms_api_tokens"
        active = Q(**{f"{tokens}__revoked_at__isnull": True}) & (
            Q(**{f"{tokens}__expires_at__isnull": True}) | Q(**{f"{tokens}__expires_at__gt": now})
        )
        return (
            ServiceAccount.objects.select_related("user")
            .prefetch_related("user__groups")
            .annotate(active_tokens=Count(tokens, filter=active), last_used_at=Max(f"{tokens}__last_used_at"))
            .order_by(f"user__{get_user_model().USERNAME_FIELD}", "pk")
        )

    def get_breadcrumbs(self):
        return [("Service accounts", None)]


class ServiceAccountCreateView(ServiceAccountPage, FormView):
    permission_required = "realms.add_serviceaccount"
    template_name = "realms/accounts/service_account_form.html"
    form_class = ServiceAccountForm

    def form_valid(self, form: ServiceAccountForm) -> HttpResponse:
        account = services.create_service_account(
            form.cleaned_data["username"],
            description=form.cleaned_data["description"],
            groups=form.cleaned_data["groups"],
        )
        messages.success(self.request, f"Service account {account.username} created. Issue an API token for it.")
        return redirect("realms:service_account", pk=account.pk)

    def get_breadcrumbs(self):
        return [("Service accounts", reverse("realms:service_accounts")), ("Create", None)]


class ServiceAccountDetailView(ServiceAccountPage, DetailView):
    permission_required = "realms.view_serviceaccount"
    template_name = "realms/accounts/service_account_detail.html"
    context_object_name = "account"

    def get_queryset(self):
        return ServiceAccount.objects.select_related("user", "realm").prefetch_related("user__groups")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["may_view_tokens"] = access.may_view(self.request.user, access.API_TOKENS)
        if context["may_view_tokens"]:
            context["tokens"] = self.object.user.realms_api_tokens.select_related("realm")
        context["no_permission"] = services.has_no_permission(self.object.user)
        return context

    def get_breadcrumbs(self):
        return [("Service accounts", reverse("realms:service_accounts")), (self.object.username, None)]


class TokenCreateView(ServiceAccountPage, FormView):
    permission_required = "realms.add_apitoken"
    template_name = "realms/accounts/token_form.html"
    form_class = TokenForm

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        self.account = get_object_or_404(ServiceAccount, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["account"] = self.account
        context["no_permission"] = services.has_no_permission(self.account.user)
        return context

    def form_valid(self, form: TokenForm) -> HttpResponse:
        issued = services.issue_token(
            self.account.user,
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=self.request.user,
            realm=form.cleaned_data.get("realm"),
        )
        # POST, then a redirect to the page that shows the secret once: a reload never issues a second token.
        path = reverse("realms:token_issued", args=[issued.token.pk])
        response = redirect(path)
        shown_once.hand_over(self.request, response, token_handover_name(issued.token), issued.secret, path)
        return response

    def get_breadcrumbs(self):
        return [
            ("Service accounts", reverse("realms:service_accounts")),
            (self.account.username, reverse("realms:service_account", args=[self.account.pk])),
            ("New API token", None),
        ]


def token_handover_name(token: APIToken) -> str:
    return f"token-{token.pk}"


class TokenIssuedView(ServiceAccountPage, TemplateView):
    """The secret of a token just issued, on this page's first display only; afterwards, what to do without it."""

    permission_required = "realms.add_apitoken"
    template_name = "realms/accounts/token_created.html"

    def get(self, request: HttpRequest, *args, **kwargs) -> HttpResponse:
        self.token = get_object_or_404(APIToken.objects.select_related("user", "realm"), pk=kwargs["pk"])
        self.account = get_object_or_404(ServiceAccount.objects.select_related("user"), user_id=self.token.user_id)
        self.secret = shown_once.take(request, token_handover_name(self.token))
        response = self.render_to_response(self.get_context_data(**kwargs))
        return shown_once.close(response, token_handover_name(self.token), request.path)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        realm = self.token.realm
        context.update(account=self.account, token=self.token, secret=self.secret)
        context["no_permission"] = services.has_no_permission(self.account.user)
        if self.secret and realm is not None and realm.scim_enabled:
            root_url = urls_helpers.scim_root_url(realm.pk, self.request)
            context["okta_fields"] = okta_fields(root_url)
            context["scim_root_url_problem"] = urls_helpers.unreachable_reason(root_url)
        return context

    def get_breadcrumbs(self):
        return [
            ("Service accounts", reverse("realms:service_accounts")),
            (self.account.username, reverse("realms:service_account", args=[self.account.pk])),
            ("API token issued", None),
        ]


class TokenRevokeView(ServiceAccountPage, View):
    permission_required = "realms.change_apitoken"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(APIToken.objects.select_related("user__realms_service_account"), pk=pk)
        services.revoke_token(token, revoked_by=request.user)
        messages.success(request, f"API token {token.name} (…{token.hint}) revoked.")
        account = ServiceAccount.objects.filter(user_id=token.user_id).first()
        if account is not None:
            return redirect("realms:service_account", pk=account.pk)
        return redirect("realms:service_accounts")
