"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL with DATABASE_URL=postgres://…"""

import os
import shutil
import tempfile
from pathlib import Path

import pytest
from django.db import connection

from realms.services import SCIM_PERMISSION_CODENAMES
from realms.services import accounts as account_services

from .factories import GroupFactory, ServiceAccountFactory, SuperUserFactory, UserFactory

FIXTURES = Path(__file__).parent / "fixtures"
PASSWORD = "correct horse battery staple"


@pytest.fixture(autouse=True)
def _plain_http(settings):
    """The test client speaks plain HTTP; production settings redirect to HTTPS."""
    settings.SECURE_SSL_REDIRECT = False
    settings.REALMS = {**getattr(settings, "REALMS", {}), "PUBLIC_BASE_URL": ""}


def pytest_collection_modifyitems(config, items):
    """Skip tests marked `postgres` unless DATABASE_URL points at PostgreSQL, and tests marked `sqlite` when it
    does (they run once, in the SQLite lane)."""
    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        marker, reason = "sqlite", "runs on SQLite only: once, in the SQLite lane"
    else:
        marker = "postgres"
        reason = (
            "needs PostgreSQL: DATABASE_URL=postgres://… (Debian package postgresql; "
            'eval "$(.ci/start-postgres)" starts one)'
        )
    skip = pytest.mark.skip(reason=reason)
    for item in items:
        if marker in item.keywords:
            item.add_marker(skip)


@pytest.fixture
def postgres_home():
    """A temporary directory for a PostgreSQL server of the test's own (its data, socket and log), which the postgres
    user can reach and write when the tests run as root (pytest's tmp_path is not reachable by it); removed after the
    test."""
    home = Path(tempfile.mkdtemp(prefix="realms-pg-"))
    if os.geteuid() == 0:
        shutil.chown(home, "postgres")
    yield home
    shutil.rmtree(home, ignore_errors=True)


@pytest.fixture
def db_vendor(db) -> str:
    return connection.vendor


@pytest.fixture
def password() -> str:
    return PASSWORD


@pytest.fixture
def superuser(db):
    return SuperUserFactory(username="root")


@pytest.fixture
def admin_client(client, superuser):
    client.force_login(superuser)
    return client


@pytest.fixture
def user_factory(db):
    return UserFactory


@pytest.fixture
def scim_group(db):
    return GroupFactory(name="SCIM provisioning", permissions=[f"realms.{c}" for c in SCIM_PERMISSION_CODENAMES])


@pytest.fixture
def service_account(scim_group):
    return ServiceAccountFactory(username="okta-scim", groups=[scim_group])


@pytest.fixture
def issued_token(service_account):
    return account_services.issue_token(service_account, name="Okta provisioning")


@pytest.fixture
def idp_metadata() -> str:
    return (FIXTURES / "okta_idp_metadata.xml").read_text()
