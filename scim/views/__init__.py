from .discovery import (
    BulkView,
    MeView,
    NotFoundView,
    ResourceTypeViewSet,
    SchemaViewSet,
    ServiceProviderConfigViewSet,
)
from .groups import GroupViewSet
from .root import RootSearchView
from .users import UserViewSet

__all__ = [
    "BulkView",
    "GroupViewSet",
    "MeView",
    "NotFoundView",
    "ResourceTypeViewSet",
    "RootSearchView",
    "SchemaViewSet",
    "ServiceProviderConfigViewSet",
    "UserViewSet",
]
