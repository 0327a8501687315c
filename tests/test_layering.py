"""One direction between the two apps: `scim` depends on `realms`, never the reverse (docs/architecture.md).

`realms` must run, and be read, without the SCIM layer: what it shows of SCIM's request log comes through
realms.extensions, which scim registers into. A module of realms that imports scim fails here, with its name.
"""

from __future__ import annotations

import ast
from pathlib import Path

import realms

REALMS_DIR = Path(realms.__file__).parent


def imported_modules(source: str) -> set[str]:
    names: set[str] = set()
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            names.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
            names.add(node.module)
    return names


def test_no_module_of_realms_imports_scim():
    offenders = {
        str(path.relative_to(REALMS_DIR.parent)): sorted(
            name for name in imported_modules(path.read_text()) if name == "scim" or name.startswith("scim.")
        )
        for path in REALMS_DIR.rglob("*.py")
    }
    offenders = {path: names for path, names in offenders.items() if names}
    assert offenders == {}


def test_the_check_finds_an_import_of_scim():
    # The test above would pass on anything if the import finder missed the forms it must catch.
    source = (
        "import scim.models\n"
        "from scim.conf import app_settings\n"
        "from . import scim_helpers\n"
        "def f():\n"
        "    import scim\n"
    )
    assert imported_modules(source) >= {"scim.models", "scim.conf", "scim"}
    assert "scim_helpers" not in imported_modules(source)


def test_no_template_of_realms_includes_a_scim_template():
    offenders = [
        str(path.relative_to(REALMS_DIR.parent))
        for path in (REALMS_DIR / "templates").rglob("*.html")
        if '"scim/' in path.read_text()
    ]
    assert offenders == []
