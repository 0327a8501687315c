"""The management API's realms and role mappings (docs/api.md): the console's rules, through its form and services.

`PUT /realms/<name-or-uuid>/` creates the realm when no realm has that name (configuration as code: run it twice,
get one realm), updates it otherwise; a name taken by another realm (ignoring letter case) is a 409.
"""

from __future__ import annotations

import django_filters
from django.db import IntegrityError, transaction
from rest_framework import mixins, status, viewsets
from rest_framework.exceptions import NotFound, ValidationError
from rest_framework.request import Request
from rest_framework.response import Response

from ..models import REALM_NAME_TAKEN, Realm, RealmGroupRoleMapping
from ..services import roles
from ..services.setup import realm_by_name
from .base import Conflict, ManagementAPIMixin, as_uuid, find_realm, get_realm, visible_realms
from .permissions import check_may_grant, group_permissions, refuse_realm_restricted
from .serializers import RealmSerializer, RoleMappingSerializer


class RealmFilter(django_filters.FilterSet):
    name = django_filters.CharFilter(lookup_expr="icontains", help_text="Realms whose name contains this text.")

    class Meta:
        model = Realm
        fields = ["name", "scim_enabled", "enabled_for_login"]


class RealmViewSet(ManagementAPIMixin, viewsets.ModelViewSet):
    """Realms: name, SCIM switch and SAML settings, and the URLs to give the IdP."""

    openapi = {
        "update": {
            "description": "Update the realm, or create it when `ref` is a name no realm holds (201). Fields left "
            "out keep their value (their default on creation). Needs realms.change_realm, and realms.add_realm to "
            "create.",
            "responses": {200: RealmSerializer, 201: RealmSerializer},
        },
    }

    serializer_class = RealmSerializer
    permission_model = "realms.realm"
    filterset_class = RealmFilter
    lookup_field = "uuid"
    lookup_url_kwarg = "ref"
    lookup_value_regex = "[^/]+"
    queryset = Realm.objects.none()  # for the schema; get_queryset is the caller's

    def get_queryset(self):
        return visible_realms(self.request).order_by("name", "uuid")

    def get_object(self) -> Realm:
        return get_realm(self.request, self.kwargs["ref"])

    def required_permission(self, request: Request) -> str | None:
        if request.method == "PUT" and self.existing_realm() is None:
            return "realms.add_realm"  # PUT creates: what POST needs
        return super().required_permission(request)

    def existing_realm(self) -> Realm | None:
        if not hasattr(self, "_existing"):
            self._existing = find_realm(self.request, self.kwargs["ref"])
        return self._existing

    def check_name_free(self, name: str | None, realm: Realm | None) -> None:
        taken = realm_by_name(name.strip()) if name else None
        if taken is not None and taken != realm:
            raise Conflict(f"{REALM_NAME_TAKEN[:-1]}: “{taken.name}” ({taken.pk}).")

    def save(self, serializer: RealmSerializer, realm: Realm | None, data) -> Realm:
        name = data.get("name") if isinstance(data, dict) else None
        self.check_name_free(name if isinstance(name, str) else None, realm)
        serializer.is_valid(raise_exception=True)
        try:
            # One transaction: turning login off revokes the realm's roles and sessions as it is saved (as the
            # console does).
            with transaction.atomic():
                return serializer.save()
        except IntegrityError:  # the same name committed meanwhile by another request
            raise Conflict(REALM_NAME_TAKEN) from None

    def create(self, request: Request, *args, **kwargs) -> Response:
        refuse_realm_restricted(request, "create realms")
        serializer = self.get_serializer(data=request.data)
        realm = self.save(serializer, None, request.data)
        return Response(self.get_serializer(realm).data, status=status.HTTP_201_CREATED)

    def update(self, request: Request, *args, **kwargs) -> Response:
        partial = kwargs.pop("partial", False)
        realm = self.existing_realm()
        ref = self.kwargs["ref"]
        data = dict(request.data) if isinstance(request.data, dict) else request.data
        if realm is None:
            if as_uuid(ref) is not None or partial:
                raise NotFound(f"No realm {ref!r}: PUT creates a realm by its name, never by a uuid.")
            refuse_realm_restricted(request, "create realms")
            if isinstance(data, dict) and data.setdefault("name", ref) != ref:
                raise ValidationError({"name": [f"The name in the URL ({ref!r}) and in the body differ."]})
            realm = self.save(self.get_serializer(data=data), None, data)
            return Response(self.get_serializer(realm).data, status=status.HTTP_201_CREATED)
        if not partial and isinstance(data, dict):
            data.setdefault("name", realm.name)  # PUT by name: the body need not repeat it
        realm = self.save(self.get_serializer(realm, data=data, partial=partial), realm, data)
        return Response(self.get_serializer(realm).data)

    def destroy(self, request: Request, *args, **kwargs) -> Response:
        refuse_realm_restricted(request, "delete realms")
        realm = self.get_object()
        with transaction.atomic():
            realm.delete()  # its roles and sessions go first (realms.receivers), its audit trail stays
        return Response(status=status.HTTP_204_NO_CONTENT)


class RoleMappingFilter(django_filters.FilterSet):
    realm_group = django_filters.UUIDFilter(field_name="realm_group_id", help_text="The realm group's id.")
    role = django_filters.NumberFilter(field_name="role_id", help_text="The console role's (Django group's) id.")

    class Meta:
        model = RealmGroupRoleMapping
        fields = ["realm_group", "role"]


class RoleMappingViewSet(
    ManagementAPIMixin,
    mixins.ListModelMixin,
    mixins.CreateModelMixin,
    mixins.RetrieveModelMixin,
    mixins.DestroyModelMixin,
    viewsets.GenericViewSet,
):
    """A realm's role mappings: members of a realm group hold a console role (a Django group) while active."""

    openapi = {
        "create": {
            "description": "Map a realm group to a console role (201), or return the mapping that exists (200). "
            "The caller must hold every permission of the role (or be a superuser): whoever the IdP puts in the "
            "group gets it.",
            "responses": {200: RoleMappingSerializer, 201: RoleMappingSerializer},
        },
        "destroy": {
            "description": "Remove the mapping: the role leaves, now, the members who hold it through no other "
            "mapping.",
        },
    }

    serializer_class = RoleMappingSerializer
    permission_model = "realms.realmgrouprolemapping"
    filterset_class = RoleMappingFilter
    queryset = RealmGroupRoleMapping.objects.none()

    @property
    def realm(self) -> Realm:
        if not hasattr(self, "_realm"):
            self._realm = get_realm(self.request, self.kwargs["ref"])
        return self._realm

    def get_serializer_context(self) -> dict:
        context = super().get_serializer_context()
        if "ref" in self.kwargs and getattr(self, "request", None) is not None:
            context["realm"] = self.realm
        return context

    def get_queryset(self):
        return (
            RealmGroupRoleMapping.objects.filter(realm_group__realm=self.realm)
            .select_related("realm_group", "role")
            .order_by("realm_group__display_name", "role__name", "pk")
        )

    def create(self, request: Request, *args, **kwargs) -> Response:
        serializer = self.get_serializer(data=request.data)
        serializer.is_valid(raise_exception=True)
        group, role = serializer.validated_data["realm_group"], serializer.validated_data["role"]
        existing = self.get_queryset().filter(realm_group=group, role=role).first()
        if existing is not None:
            return Response(self.get_serializer(existing).data)
        check_may_grant(request, group_permissions([role]), f"Mapping {group.display_name} to role {role.name}")
        (mapping,) = roles.add_role_mappings(group, [role], self.actor())
        return Response(self.get_serializer(mapping).data, status=status.HTTP_201_CREATED)

    def perform_destroy(self, instance: RealmGroupRoleMapping) -> None:
        roles.remove_role_mapping(instance, self.actor())
