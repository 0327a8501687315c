"""URLs of the management API and the change feed, included by scim.urls under the host's `api/` prefix."""

urlpatterns: list = []
