"""What another installed app adds to the realms console, so that `realms` never imports it.

`scim` depends on `realms`, never the reverse (docs/architecture.md): the SCIM request log is shown on a realm's
page and on a page of its own through this registry, which scim's AppConfig.ready() fills in with
`register("scim.console")`. The module named is imported when the console first needs it (after start-up: its
views may import realms' views), and may define:

- `realm_panel_template` and `realm_panel_context(request, realm) -> dict`: a template included in the realm
  page's SCIM panel, below the user and group counts, and the names it needs, merged into the page's context
  (prefix them with your app's name);
- `realm_urlpatterns`: URL patterns served under `<realms include>/<uuid:pk>/`, in the `realms` namespace (the
  view receives the realm's uuid as `pk`).

Not a public API yet (docs/embedding.md lists those): it may change in a minor release.
"""

from __future__ import annotations

from importlib import import_module
from types import ModuleType
from typing import Any

from django.http import HttpRequest

__all__ = ["realm_panels", "realm_urlpatterns", "register"]

_modules: list[str] = []


def register(module: str) -> None:
    """Called from an AppConfig.ready(); registering a module again changes nothing."""
    if module not in _modules:
        _modules.append(module)


def _extensions() -> list[ModuleType]:
    return [import_module(name) for name in _modules]


def realm_panels(request: HttpRequest, realm: Any) -> tuple[list[str], dict[str, Any]]:
    """The templates of the realm page's extension panels and the context they need."""
    templates: list[str] = []
    context: dict[str, Any] = {}
    for module in _extensions():
        template = getattr(module, "realm_panel_template", None)
        if template:
            templates.append(template)
            context.update(module.realm_panel_context(request, realm))
    return templates, context


def realm_urlpatterns() -> list:
    return [pattern for module in _extensions() for pattern in getattr(module, "realm_urlpatterns", [])]
