from .discovery import (
    BulkView,
    MeView,
    NotFoundView,
    ResourceTypeViewSet,
    SchemaViewSet,
    ServiceProviderConfigViewSet,
)
from .groups import GroupViewSet
from .users import UserViewSet

__all__ = [
    "BulkView",
    "GroupViewSet",
    "MeView",
    "NotFoundView",
    "ResourceTypeViewSet",
    "SchemaViewSet",
    "ServiceProviderConfigViewSet",
    "UserViewSet",
]
