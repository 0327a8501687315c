"""The wheel a host installs, built the way docs/embedding.md says (`pip wheel --no-deps -w dist <checkout>`).

Built from a copy of the checkout in a temporary directory: the build must leave that copy exactly as it was (no
`build/`, no `*.egg-info` rewritten), and the wheel must hold the two apps with every file they need at run time
(templates, static files, migrations, commands) and nothing of the reference console, the tests or the benchmarks.
"""

from __future__ import annotations

import hashlib
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
# What a checkout holds that is not source: environments, caches, local data, earlier builds.
NOT_SOURCE = shutil.ignore_patterns(
    ".git", ".venv*", "var", "__pycache__", "*.pyc", ".pytest_cache", ".ruff_cache", ".hypothesis", "build", "dist",
    "*.egg-info", "test-artifacts", "node_modules",
)  # fmt: skip


def tree(root: Path) -> dict[str, str]:
    """Every file under `root` (relative path → SHA-256 of its bytes)."""
    return {
        path.relative_to(root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(root.rglob("*"))
        if path.is_file()
    }


def app_files(checkout: Path, app: str) -> set[str]:
    return {
        path.relative_to(checkout).as_posix()
        for path in (checkout / app).rglob("*")
        if path.is_file() and "__pycache__" not in path.parts and path.suffix != ".pyc"
    }


def test_the_wheel_holds_both_apps_and_the_build_leaves_the_checkout_as_it_was(tmp_path):
    checkout = tmp_path / "checkout"
    shutil.copytree(REPO, checkout, ignore=NOT_SOURCE)
    before = tree(checkout)
    dist = tmp_path / "dist"
    # Without build isolation: the build backend (hatchling) comes with the dev extras, nothing is downloaded.
    done = subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(dist), "."],
        cwd=checkout,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )
    assert done.returncode == 0, done.stdout + done.stderr

    after = tree(checkout)
    assert sorted(set(after) - set(before)) == [], "the build wrote into the checkout"
    assert [name for name in before if after.get(name) != before[name]] == [], "the build changed the checkout"

    (wheel,) = dist.glob("realms_console-*-py3-none-any.whl")
    names = set(zipfile.ZipFile(wheel).namelist())
    installed = {name for name in names if ".dist-info/" not in name}
    # Every file of the two apps, and nothing else.
    assert installed == app_files(checkout, "realms") | app_files(checkout, "scim")
    assert {name.split("/")[0] for name in installed} == {"realms", "scim"}
    for needed in (
        "realms/templates/realms/base.html",
        "realms/templates/admin/realms/apitoken/issued.html",
        "realms/static/realms/console.css",
        "realms/static/realms/console.js",
        "realms/migrations/0001_initial.py",
        "scim/migrations/0001_initial.py",
        "realms/management/commands/scim_quickstart.py",
    ):
        assert needed in names, needed
    for app in ("realms", "scim"):
        migrations = {p.relative_to(checkout).as_posix() for p in (checkout / app / "migrations").glob("*.py")}
        assert migrations <= names, migrations - names
    assert not any(name.startswith(("console/", "tests/", "benchmarks/", "docs/")) for name in names)
    assert not any("__pycache__" in name or name.endswith(".pyc") for name in names)
    metadata = next(name for name in names if name.endswith(".dist-info/METADATA"))
    text = zipfile.ZipFile(wheel).read(metadata).decode()
    assert "Name: realms-console" in text and "Requires-Dist: django-filter" in text.replace("_", "-")
