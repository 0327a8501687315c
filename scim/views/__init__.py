from .discovery import BulkView, MeView, NotFoundView, ResourceTypesView, SchemasView, ServiceProviderConfigView
from .groups import GroupViewSet
from .users import UserViewSet

__all__ = [
    "BulkView",
    "GroupViewSet",
    "MeView",
    "NotFoundView",
    "ResourceTypesView",
    "SchemasView",
    "ServiceProviderConfigView",
    "UserViewSet",
]
