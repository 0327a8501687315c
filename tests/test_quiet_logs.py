"""What a host's `manage.py` prints once the apps are installed: not xmlschema's "Resource 'XMLSchema.xsd' is
already loaded" (pysaml2 imports xmlschema, which logs it at INFO while building its meta-schema).

The reference console's LOGGING shows INFO on the root logger and says nothing of xmlschema, as a host's would."""

from __future__ import annotations

import logging
import os
import subprocess
import sys
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent


def test_manage_py_check_prints_no_xmlschema_line(tmp_path):
    env = {
        **os.environ,
        "DJANGO_SETTINGS_MODULE": "console.settings",
        "DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}",
        "LOG_LEVEL": "INFO",
        "PYTHONDONTWRITEBYTECODE": "1",
    }
    done = subprocess.run(
        [sys.executable, "manage.py", "check"],
        cwd=REPO,
        env=env,
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    output = done.stdout + done.stderr
    assert done.returncode == 0, output
    assert "System check identified no issues" in output
    assert "already loaded" not in output and "XMLSchema.xsd" not in output, output


def test_only_that_message_is_dropped(caplog):
    """xmlschema's other messages, and its INFO level, are the host's to see."""
    logger = logging.getLogger("xmlschema")
    with caplog.at_level(logging.INFO, logger="xmlschema"):
        logger.info("Resource %r is already loaded", "XMLSchema.xsd")
        logger.info("Resource %r is being loaded", "saml-schema-protocol-2.0.xsd")
        logger.warning("Resource %r is already loaded", "odd.xsd")
    messages = [r.getMessage() for r in caplog.records if r.name == "xmlschema"]
    assert messages == [
        "Resource 'saml-schema-protocol-2.0.xsd' is being loaded",
        "Resource 'odd.xsd' is already loaded",
    ]
