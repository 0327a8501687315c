from .discovery import BulkView, MeView, NotFoundView, ResourceTypesView, SchemasView, ServiceProviderConfigView
from .groups import GroupDetailView, GroupListView, GroupSearchView
from .users import UserDetailView, UserListView, UserSearchView

__all__ = [
    "BulkView",
    "GroupDetailView",
    "GroupListView",
    "GroupSearchView",
    "MeView",
    "NotFoundView",
    "ResourceTypesView",
    "SchemasView",
    "ServiceProviderConfigView",
    "UserDetailView",
    "UserListView",
    "UserSearchView",
]
