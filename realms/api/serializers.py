"""Representations of the management API. Validation is the console's: realms go through `RealmForm`, service
account usernames through the console's username rule, so the API accepts exactly what the console accepts."""

from __future__ import annotations

from typing import Any

from django.contrib.auth.models import Group
from django.utils import timezone
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from .. import urls_helpers
from ..console.forms import RealmForm
from ..models import APIToken, Realm, RealmGroup, RealmGroupRoleMapping, ServiceAccount
from .base import ManagementModelSerializer, UTCDateTimeField, as_uuid

REALM_FORM_FIELDS = RealmForm._meta.fields


def form_errors(form: Any) -> dict[str, list[str]]:
    """A Django form's errors as DRF's {field: [messages]} (non-field errors under "non_field_errors")."""
    errors: dict[str, list[str]] = {}
    for field, messages in form.errors.items():
        key = "non_field_errors" if field == "__all__" else field.replace("idp_metadata_file", "idp_metadata")
        errors.setdefault(key, []).extend(str(m) for m in messages)
    return errors


class RealmSerializer(ManagementModelSerializer):
    """A realm with its SCIM switch and SAML settings, and the URLs an IdP needs (read-only)."""

    scim_root_url = serializers.SerializerMethodField(
        help_text="The SCIM root URL to give the IdP (Okta: Provisioning tab, SCIM connector base URL); null while "
        "SCIM is off."
    )
    saml_metadata_url = serializers.SerializerMethodField(help_text="The SP metadata URL (the SAML entity id).")
    saml_acs_url = serializers.SerializerMethodField(help_text="The SAML assertion consumer service URL.")
    login_session_expiry = serializers.IntegerField(
        min_value=1, required=False, help_text="Lifetime in seconds of a console session opened through this realm."
    )

    class Meta:
        model = Realm
        fields = [
            "uuid",
            "backend",
            *REALM_FORM_FIELDS,
            "scim_root_url",
            "saml_metadata_url",
            "saml_acs_url",
            "created_at",
            "updated_at",
        ]
        read_only_fields = ["uuid", "backend", "created_at", "updated_at"]
        # Names are unique ignoring case: checked by RealmForm (400) and by the view (409), not by DRF.
        extra_kwargs = {"name": {"validators": []}}

    @extend_schema_field(serializers.URLField(allow_null=True))
    def get_scim_root_url(self, realm: Realm) -> str | None:
        if not realm.scim_enabled:
            return None
        return urls_helpers.scim_root_url(realm.pk, self.context.get("request"))

    def get_saml_metadata_url(self, realm: Realm) -> str:
        return urls_helpers.saml_metadata_url(realm.pk, self.context.get("request"))

    def get_saml_acs_url(self, realm: Realm) -> str:
        return urls_helpers.saml_acs_url(realm.pk, self.context.get("request"))

    def validate(self, attrs: dict[str, Any]) -> dict[str, Any]:
        """The console's RealmForm decides: the current values (or the defaults), overridden by those sent."""
        instance = self.instance
        if instance is None:
            data = {name: Realm._meta.get_field(name).get_default() for name in REALM_FORM_FIELDS}
        else:
            data = {name: getattr(instance, name) for name in REALM_FORM_FIELDS}
        data.update(attrs)
        self.form = RealmForm(data={k: v for k, v in data.items() if v is not None}, instance=instance)
        if not self.form.is_valid():
            raise serializers.ValidationError(form_errors(self.form))
        return attrs

    def create(self, validated_data: dict[str, Any]) -> Realm:
        return self.form.save()

    def update(self, instance: Realm, validated_data: dict[str, Any]) -> Realm:
        return self.form.save()


class RoleMappingSerializer(ManagementModelSerializer):
    """Members of `realm_group` hold the console role `role` (a Django group) while they are active."""

    realm_group = serializers.CharField(
        write_only=True, help_text="The realm group: its id, or its displayName (any letter case)."
    )
    role = serializers.CharField(write_only=True, help_text="The console role (Django group): its id, or its name.")
    realm_group_id = serializers.UUIDField(source="realm_group.pk", read_only=True)
    realm_group_name = serializers.CharField(source="realm_group.display_name", read_only=True)
    role_id = serializers.IntegerField(source="role.pk", read_only=True)
    role_name = serializers.CharField(source="role.name", read_only=True)

    class Meta:
        model = RealmGroupRoleMapping
        fields = [
            "id",
            "realm_group",
            "role",
            "realm_group_id",
            "realm_group_name",
            "role_id",
            "role_name",
            "created_at",
        ]
        read_only_fields = ["id", "created_at"]
        validators: list = []  # a mapping that exists is returned (200), not refused: see the view

    def validate_realm_group(self, value: str) -> RealmGroup:
        realm = self.context["realm"]
        groups = RealmGroup.objects.filter(realm=realm)
        pk = as_uuid(value)
        group = groups.filter(pk=pk).first() if pk is not None else None
        if group is None:
            group = groups.filter(display_name__iexact=value).first()
        if group is None:
            raise serializers.ValidationError(f"Realm {realm.name} has no group {value!r}.")
        return group

    def validate_role(self, value: str) -> Group:
        role = Group.objects.filter(pk=int(value)).first() if value.isdigit() else None
        role = role or Group.objects.filter(name=value).first()
        if role is None:
            raise serializers.ValidationError(f"No console role (Django group) {value!r}.")
        return role


class ServiceAccountSerializer(ManagementModelSerializer):
    username = serializers.CharField(
        max_length=150, help_text="The account's username on the host's user model; fixed once created."
    )
    groups = serializers.ListField(
        child=serializers.CharField(),
        required=False,
        help_text="Names of the Django groups whose permissions the account's tokens get (replaces the list).",
    )
    is_active = serializers.BooleanField(
        required=False, help_text="False deactivates the account: every call with its tokens is refused (401)."
    )
    realm = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="The realm this account provisions (its uuid or name), set on creation: each realm has one.",
    )

    class Meta:
        model = ServiceAccount
        fields = ["id", "username", "description", "groups", "is_active", "realm", "created_at"]
        read_only_fields = ["id", "created_at"]

    def to_representation(self, account: ServiceAccount) -> dict[str, Any]:
        return {
            "id": account.pk,
            "username": account.username,
            "description": account.description,
            "groups": sorted(group.name for group in account.user.groups.all()),
            "is_active": account.user.is_active,
            "realm": str(account.realm_id) if account.realm_id else None,
            "created_at": UTCDateTimeField().to_representation(account.created_at),
        }

    def validate_groups(self, names: list[str]) -> list[Group]:
        groups = list(Group.objects.filter(name__in=names))
        unknown = sorted(set(names) - {group.name for group in groups})
        if unknown:
            raise serializers.ValidationError(f"No Django group named {', '.join(map(repr, unknown))}.")
        return groups


class TokenSerializer(ManagementModelSerializer):
    """An API token without its secret: the secret is in the response that issues it, never again."""

    realm = serializers.CharField(
        required=False,
        allow_null=True,
        help_text="Restrict the token to this realm (uuid or name): 404 on every other realm. Null: every realm.",
    )
    realm_name = serializers.CharField(source="realm.name", read_only=True, allow_null=True, default=None)
    created_by = serializers.SerializerMethodField()

    class Meta:
        model = APIToken
        fields = [
            "id",
            "name",
            "hint",
            "masked",
            "status",
            "realm",
            "realm_name",
            "created_at",
            "created_by",
            "last_used_at",
            "expires_at",
            "revoked_at",
        ]
        read_only_fields = ["id", "hint", "masked", "status", "created_at", "last_used_at", "revoked_at"]

    def get_created_by(self, token: APIToken) -> str | None:
        return token.created_by.get_username() if token.created_by is not None else None

    def to_representation(self, token: APIToken) -> dict[str, Any]:
        data = super().to_representation(token)
        data["realm"] = str(token.realm_id) if token.realm_id else None
        return data

    def validate_expires_at(self, value):
        if value is not None and value <= timezone.now():
            raise serializers.ValidationError("The expiry must be in the future.")
        return value


class IssuedTokenSerializer(TokenSerializer):
    token = serializers.CharField(read_only=True, help_text="The secret: in this response only, never shown again.")

    class Meta(TokenSerializer.Meta):
        fields = [*TokenSerializer.Meta.fields, "token"]
