"""Shared fixtures. Tests run on SQLite by default and on PostgreSQL with DATABASE_URL=postgres://…"""

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
    """Skip tests marked `postgres` unless DATABASE_URL points at PostgreSQL."""
    import os

    if os.environ.get("DATABASE_URL", "").startswith(("postgres://", "postgresql://")):
        return
    skip = pytest.mark.skip(
        reason='needs PostgreSQL: DATABASE_URL=postgres://… (Debian package postgresql; eval "$(.ci/start-postgres)" '
        "starts one)"
    )
    for item in items:
        if "postgres" in item.keywords:
            item.add_marker(skip)


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
