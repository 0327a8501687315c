"""The management API's service accounts and their API tokens (docs/api.md), through realms.services.accounts.

A service account is found by its username (or its id). `PUT /service-accounts/<username>/` creates or updates
it; a username held by a person, or a realm that has its account already, is a 409. Accounts are deactivated, never
deleted (their tokens' history stays); tokens are revoked, never deleted. A token's secret is in the response that
issues it, and never again. Tokens restricted to a realm reach none of this (403).
"""

from __future__ import annotations

import django_filters
from django import forms
from django.contrib.auth import get_user_model
from django.db import transaction
from rest_framework import mixins, status, viewsets
from rest_framework.decorators import action
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..console.forms import new_service_account_username
from ..models import APIToken, Realm, ServiceAccount
from ..services import accounts as services
from .base import Conflict, ManagementAPIMixin, find_realm
from .permissions import check_may_grant, check_may_grant_account, group_permissions, refuse_realm_restricted
from .serializers import IssuedTokenSerializer, ServiceAccountSerializer, TokenSerializer


def find_account(ref: str) -> ServiceAccount | None:
    """By username first (exactly as the host's user model stores it), then by id."""
    accounts = ServiceAccount.objects.select_related("user", "realm")
    account = accounts.filter(**{f"user__{get_user_model().USERNAME_FIELD}": ref}).first()
    if account is None and ref.isdigit():
        account = accounts.filter(pk=int(ref)).first()
    return account


def realm_of(request: Request, ref: str | None) -> Realm | None:
    if not ref:
        return None
    realm = find_realm(request, ref)
    if realm is None:
        raise ValidationError({"realm": [f"No realm {ref!r}."]})
    return realm


class AccountsMixin(ManagementAPIMixin):
    def initial(self, request: Request, *args, **kwargs) -> None:
        super().initial(request, *args, **kwargs)  # 401, 403 on the model permission
        refuse_realm_restricted(request, "manage service accounts or their tokens")

    def get_account(self) -> ServiceAccount:
        account = find_account(self.kwargs["account"])
        if account is None:
            raise NotFound(f"No service account {self.kwargs['account']!r}.")
        return account


class ServiceAccountFilter(django_filters.FilterSet):
    is_active = django_filters.BooleanFilter(field_name="user__is_active", help_text="Active accounts only, or not.")
    realm = django_filters.UUIDFilter(field_name="realm_id", help_text="The account of this realm (its uuid).")

    class Meta:
        model = ServiceAccount
        fields = ["is_active", "realm"]


class ServiceAccountViewSet(
    AccountsMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.UpdateModelMixin,
    viewsets.GenericViewSet,
):
    """Service accounts: users that authenticate with API tokens only, never staff. Groups given must hold only
    permissions the caller holds."""

    openapi = {
        "update": {
            "description": "Update the account, or create it with this username (201). Fields left out keep their "
            "value. Needs realms.change_serviceaccount, and realms.add_serviceaccount to create.",
            "responses": {200: ServiceAccountSerializer, 201: ServiceAccountSerializer},
        },
        "deactivate": {"request": None},
    }

    serializer_class = ServiceAccountSerializer
    permission_model = "realms.serviceaccount"
    filterset_class = ServiceAccountFilter
    lookup_url_kwarg = "account"
    lookup_value_regex = "[^/]+"
    queryset = ServiceAccount.objects.none()

    def get_queryset(self):
        return (
            ServiceAccount.objects.select_related("user")
            .prefetch_related("user__groups")
            .order_by(f"user__{get_user_model().USERNAME_FIELD}", "pk")
        )

    def get_object(self) -> ServiceAccount:
        return self.get_account()

    def required_permission(self, request: Request) -> str | None:
        if request.method == "PUT" and find_account(self.kwargs["account"]) is None:
            return "realms.add_serviceaccount"  # PUT creates: what POST needs
        if self.action == "deactivate":
            return "realms.change_serviceaccount"
        return super().required_permission(request)

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        account = self.create_account(serializer.validated_data)
        return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)

    def create_account(self, data: dict) -> ServiceAccount:
        username = data["username"]
        user_model = get_user_model()
        holder = user_model.objects.filter(**{f"{user_model.USERNAME_FIELD}__iexact": username}).first()
        if holder is not None:
            kind = "service account" if find_account(holder.get_username()) else "user (not a service account)"
            raise Conflict(f"A {kind} named {holder.get_username()!r} already exists.")
        try:
            username = new_service_account_username(username)
        except forms.ValidationError as exc:
            raise ValidationError({"username": exc.messages}) from None
        groups = data.get("groups", [])
        check_may_grant(request=self.request, permissions=group_permissions(groups), what="These groups")
        realm = realm_of(self.request, data.get("realm"))
        if realm is not None and ServiceAccount.objects.filter(realm=realm).exists():
            raise Conflict(f"Realm {realm.name} has its service account already: each realm has one.")
        with transaction.atomic():
            account = services.create_service_account(username, description=data.get("description", ""), groups=groups)
            if realm is not None:
                account.realm = realm
                account.save(update_fields=["realm"])
            if data.get("is_active") is False:
                services.update_service_account(account, is_active=False)
        return account

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        ref = self.kwargs["account"]
        account = find_account(ref)
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        if account is None:
            if partial:
                raise NotFound(f"No service account {ref!r}.")
            if isinstance(data, dict) and data.setdefault("username", ref) != ref:
                raise ValidationError({"username": [f"The username in the URL ({ref!r}) and in the body differ."]})
            serializer = self.get_serializer(data=data)
            serializer.is_valid(raise_exception=True)
            account = self.create_account(serializer.validated_data)
            return Response(self.get_serializer(account).data, status=status.HTTP_201_CREATED)
        if isinstance(data, dict):
            data.setdefault("username", account.username)
        serializer = self.get_serializer(account, data=data, partial=True)  # left out: kept
        serializer.is_valid(raise_exception=True)
        valid = serializer.validated_data
        if valid.get("username", account.username) != account.username:
            raise ValidationError({"username": ["A service account's username cannot change."]})
        if "realm" in valid:
            realm = realm_of(request, valid["realm"])
            if realm != account.realm:
                raise ValidationError({"realm": ["A service account's realm is set when it is created only."]})
        groups = valid.get("groups")
        if groups is not None:
            held = set(account.user.groups.values_list("pk", flat=True))
            check_may_grant(request, group_permissions([g for g in groups if g.pk not in held]), "These groups")
        services.update_service_account(
            account, description=valid.get("description"), groups=groups, is_active=valid.get("is_active")
        )
        return Response(self.get_serializer(find_account(account.username)).data)

    @action(detail=True, methods=["post"])
    def deactivate(self, request: Request, *args, **kwargs) -> Response:
        """Deactivate the account: every call with any of its tokens is refused (401) from now on."""
        account = self.get_account()
        services.update_service_account(account, is_active=False)
        return Response(self.get_serializer(account).data)


class TokenFilter(django_filters.FilterSet):
    realm = django_filters.UUIDFilter(field_name="realm_id", help_text="Tokens restricted to this realm (its uuid).")

    class Meta:
        model = APIToken
        fields = ["realm"]


class TokenViewSet(
    AccountsMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A service account's API tokens, without their secrets."""

    openapi = {
        "create": {
            "description": "Issue a token: its secret is in this response's `token`, and never shown again.",
            "responses": {201: IssuedTokenSerializer},
        },
        "destroy": {
            "description": "Revoke the token (it stays listed, status revoked): its next call is refused (401). "
            "Needs realms.change_apitoken, as in the console.",
        },
    }

    serializer_class = TokenSerializer
    permission_model = "realms.apitoken"
    filterset_class = TokenFilter
    queryset = APIToken.objects.none()

    def get_queryset(self):
        account = self.get_account()
        return APIToken.objects.filter(user=account.user).select_related("realm", "created_by")

    def required_permission(self, request: Request) -> str | None:
        if request.method == "DELETE":
            return "realms.change_apitoken"  # revoked, not deleted: as the console's Revoke
        return super().required_permission(request)

    def create(self, request: Request, *args, **kwargs) -> Response:
        account = self.get_account()
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        if not account.user.is_active:
            raise ValidationError({"non_field_errors": ["The account is inactive: its tokens would be refused."]})
        check_may_grant_account(request, account.user, f"A token for {account.username}")
        data = serializer.validated_data
        issued = services.issue_token(
            account.user,
            name=data["name"],
            expires_at=data.get("expires_at"),
            created_by=request.user,
            realm=realm_of(request, data.get("realm")),
        )
        body = IssuedTokenSerializer(issued.token, context=self.get_serializer_context()).data
        body["token"] = issued.secret  # this response only: never stored, never shown again
        return Response(body, status=status.HTTP_201_CREATED, headers={"Cache-Control": "no-store"})

    def perform_destroy(self, instance: APIToken) -> None:
        services.revoke_token(instance, revoked_by=self.request.user)
