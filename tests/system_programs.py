"""System programs that some tests need, and the Debian packages that give them.

The README's `make test` must pass on a fresh machine with only Python and make: a test whose program is missing
is skipped, with a reason naming the Debian package to install. CI installs every package and sets
REQUIRE_SYSTEM_PROGRAMS=1, which turns those skips into failures, so full coverage is never lost in silence.
"""

from __future__ import annotations

import os
import shutil
import socket
from pathlib import Path
from typing import NoReturn

import pytest

REQUIRE_ENV = "REQUIRE_SYSTEM_PROGRAMS"


def required() -> bool:
    return os.environ.get(REQUIRE_ENV, "").strip().lower() in {"1", "true", "yes", "on"}


def missing(reason: str) -> NoReturn:
    """Skip the test, or fail it when REQUIRE_SYSTEM_PROGRAMS is set (CI)."""
    if required():
        pytest.fail(f"{reason} [{REQUIRE_ENV}=1: missing system programs fail the run]", pytrace=False)
    pytest.skip(reason)


def require_program(program: str, package: str, purpose: str) -> str:
    """The path of `program` on PATH; skips (or, in CI, fails) the test when it is not installed."""
    found = shutil.which(program)
    if found is None:
        missing(
            f"{purpose} need {program}, which is not installed (Debian package {package}: apt-get install {package})"
        )
    return found


def postgresql_bin_dir() -> Path:
    """Debian's directory of PostgreSQL's server programs (initdb, pg_ctl), newest version first."""
    for bin_dir in sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=_version, reverse=True):
        if (bin_dir / "initdb").is_file() and (bin_dir / "pg_ctl").is_file():
            return bin_dir
    missing(
        "tests that start a PostgreSQL server of their own need initdb and pg_ctl under /usr/lib/postgresql, which "
        "are not installed (Debian package postgresql: apt-get install postgresql)"
    )


def _version(bin_dir: Path) -> tuple[int, ...]:
    return tuple(int(part) for part in bin_dir.parent.name.split(".") if part.isdigit())


def free_ports(count: int = 1) -> list[int]:
    """`count` distinct TCP ports on 127.0.0.1 that nothing listens on now, for the servers a test starts."""
    probes = [socket.socket() for _ in range(count)]
    try:
        for probe in probes:  # all bound at once: the system gives each its own port
            probe.bind(("127.0.0.1", 0))
        return [probe.getsockname()[1] for probe in probes]
    finally:
        for probe in probes:
            probe.close()
