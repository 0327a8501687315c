"""The router of the SCIM endpoints: DRF's SimpleRouter routes, with the trailing slash optional.

RFC 7644 §3.2 names the endpoints without a trailing slash; IdPs send both forms, and Okta follows no redirect on a
POST, so every path answers with or without one and none redirects (Django's APPEND_SLASH never applies: each form
is matched). DRF's routers make the slash required or absent, never optional, hence these routes.
"""

from __future__ import annotations

from rest_framework.routers import DynamicRoute, Route, SimpleRouter


class SCIMRouter(SimpleRouter):
    """`/<prefix>` (list, create), `/<prefix>/<action path>` (extra actions such as `.search`) and `/<prefix>/<id>`
    (retrieve, update, partial_update, destroy), each with an optional trailing slash. Only the methods a viewset
    implements are routed; any other method on a routed path is a 405 with its `Allow` header (DRF's)."""

    routes = [
        Route(
            url=r"^{prefix}/?$",
            mapping={"get": "list", "post": "create"},
            name="{basename}-list",
            detail=False,
            initkwargs={"suffix": "List"},
        ),
        # Before the detail route: `/Users/.search` is an action, not a user with the id ".search".
        DynamicRoute(url=r"^{prefix}/{url_path}/?$", name="{basename}-{url_name}", detail=False, initkwargs={}),
        Route(
            url=r"^{prefix}/{lookup}/?$",
            mapping={"get": "retrieve", "put": "update", "patch": "partial_update", "delete": "destroy"},
            name="{basename}-detail",
            detail=True,
            initkwargs={"suffix": "Instance"},
        ),
    ]
