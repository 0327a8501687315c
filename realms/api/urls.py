"""URLs of the management API and the change feed, included by scim.urls under the host's `api/` prefix."""

from django.urls import path

from .events import RealmEventsView

urlpatterns: list = [
    path("realms/<uuid:realm_pk>/events/", RealmEventsView.as_view(), name="realm-events"),
]
