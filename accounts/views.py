"""Console pages for service accounts and their API tokens."""

from __future__ import annotations

from django.contrib import messages
from django.contrib.auth.mixins import LoginRequiredMixin, PermissionRequiredMixin
from django.db.models import Count, Max, Q
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.urls import reverse
from django.utils import timezone
from django.views import View
from django.views.generic import DetailView, FormView, ListView

from . import services
from .forms import ServiceAccountForm, TokenForm
from .models import APIToken, ServiceAccount


class ConsoleMixin(LoginRequiredMixin, PermissionRequiredMixin):
    """Console page: login required, a Django permission required (403 without it), section and breadcrumbs."""

    section = "service_accounts"

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["section"] = self.section
        context["breadcrumbs"] = self.get_breadcrumbs()
        return context

    def get_breadcrumbs(self) -> list[tuple[str, str | None]]:
        return []


class ServiceAccountListView(ConsoleMixin, ListView):
    permission_required = "accounts.view_serviceaccount"
    template_name = "accounts/service_account_list.html"
    paginate_by = 50

    def get_queryset(self):
        now = timezone.now()
        active = Q(api_tokens__revoked_at__isnull=True) & (
            Q(api_tokens__expires_at__isnull=True) | Q(api_tokens__expires_at__gt=now)
        )
        return (
            ServiceAccount.objects.prefetch_related("groups")
            .annotate(active_tokens=Count("api_tokens", filter=active), last_used_at=Max("api_tokens__last_used_at"))
            .order_by("username", "pk")
        )

    def get_breadcrumbs(self):
        return [("Service accounts", None)]


class ServiceAccountCreateView(ConsoleMixin, FormView):
    permission_required = "accounts.add_serviceaccount"
    template_name = "accounts/service_account_form.html"
    form_class = ServiceAccountForm

    def form_valid(self, form: ServiceAccountForm) -> HttpResponse:
        account = services.create_service_account(
            form.cleaned_data["username"],
            description=form.cleaned_data["description"],
            groups=form.cleaned_data["groups"],
        )
        messages.success(self.request, f"Service account {account.username} created. Issue an API token for it.")
        return redirect("accounts:service_account", pk=account.pk)

    def get_breadcrumbs(self):
        return [("Service accounts", reverse("accounts:service_accounts")), ("Create", None)]


class ServiceAccountDetailView(ConsoleMixin, DetailView):
    permission_required = "accounts.view_serviceaccount"
    template_name = "accounts/service_account_detail.html"
    context_object_name = "account"

    def get_queryset(self):
        return ServiceAccount.objects.prefetch_related("groups")

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["tokens"] = self.object.api_tokens.all()
        return context

    def get_breadcrumbs(self):
        return [("Service accounts", reverse("accounts:service_accounts")), (self.object.username, None)]


class TokenCreateView(ConsoleMixin, FormView):
    permission_required = "accounts.add_apitoken"
    template_name = "accounts/token_form.html"
    form_class = TokenForm

    def dispatch(self, request: HttpRequest, *args, **kwargs):
        self.account = get_object_or_404(ServiceAccount, pk=kwargs["pk"])
        return super().dispatch(request, *args, **kwargs)

    def get_context_data(self, **kwargs):
        context = super().get_context_data(**kwargs)
        context["account"] = self.account
        return context

    def form_valid(self, form: TokenForm) -> HttpResponse:
        issued = services.issue_token(
            self.account,
            name=form.cleaned_data["name"],
            expires_at=form.cleaned_data["expires_at"],
            created_by=self.request.user,
            realm=form.cleaned_data.get("realm"),
        )
        # The secret is rendered in this response only; it is never stored nor put in a message or the session.
        response = render(
            self.request,
            "accounts/token_created.html",
            {
                "account": self.account,
                "token": issued.token,
                "secret": issued.secret,
                "section": self.section,
                "breadcrumbs": self.get_breadcrumbs(),
            },
        )
        response["Cache-Control"] = "no-store"
        return response

    def get_breadcrumbs(self):
        return [
            ("Service accounts", reverse("accounts:service_accounts")),
            (self.account.username, reverse("accounts:service_account", args=[self.account.pk])),
            ("New API token", None),
        ]


class TokenRevokeView(LoginRequiredMixin, PermissionRequiredMixin, View):
    permission_required = "accounts.change_apitoken"
    http_method_names = ["post"]

    def post(self, request: HttpRequest, pk: int) -> HttpResponse:
        token = get_object_or_404(APIToken.objects.select_related("user"), pk=pk)
        services.revoke_token(token, revoked_by=request.user)
        messages.success(request, f"API token {token.name} (…{token.hint}) revoked.")
        if token.user.is_service_account:
            return redirect("accounts:service_account", pk=token.user_id)
        return redirect("home")
