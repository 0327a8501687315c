"""The hand-written SQL of the hot path (realms/sql.py, queries.py, token_query.py) gives exactly what the ORM gives,
on SQLite and PostgreSQL.

The token, realm, user and lookup queries of every SCIM call run through it, so a difference here would be a wrong
answer on every call: these tests compare each with the ORM's evaluation of the equivalent queryset, the values
read through a raw cursor with the values the ORM converts, and the rows save_together writes with what save()
writes.
"""

from __future__ import annotations

import datetime
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import connection

from accounts import services as account_services
from accounts.models import APIToken
from realms.models import (
    AuditEvent,
    Realm,
    RealmCounts,
    RealmEmail,
    RealmGroup,
    RealmGroupMembership,
    RealmUser,
)
from realms.sql import Columns, convert, fetch, table_fields

from ..factories import (
    GroupFactory,
    RealmEmailFactory,
    RealmFactory,
    RealmGroupFactory,
    RealmGroupMembershipFactory,
    RealmUserFactory,
    ServiceAccountFactory,
    SuperUserFactory,
)
from ..scim.conftest import SCIMClient, okta_user, scim_token


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in table_fields(type(obj))}


def _raw_rows(model, **filters) -> list:
    """Every column of the model's rows, read through a raw cursor (no ORM conversion)."""
    columns = Columns(model)
    qn = connection.ops.quote_name
    pks = model.objects.filter(**filters).values_list("pk", flat=True)
    params = [model._meta.pk.get_db_prep_value(pk, connection) for pk in pks]
    where = " OR ".join([f"{qn(model._meta.pk.column)} = %s"] * len(params)) or "1 = 0"
    return fetch(f"SELECT {columns.sql(connection)} FROM {qn(model._meta.db_table)} WHERE {where}", params)


# -------------------------------------------------------------- values through a raw cursor, as the ORM gives them


def test_table_fields_are_in_the_order_model_init_takes_them(db):
    for model in (RealmUser, RealmGroup, Realm, RealmCounts, RealmEmail, AuditEvent, APIToken, get_user_model()):
        assert [f.attname for f in table_fields(model)] == [f.attname for f in model._meta.concrete_fields]


def test_every_column_read_raw_converts_to_the_orms_value_on_this_database(db):
    """UUIDs (char(32) on SQLite), aware datetimes, booleans, JSON, nullable foreign keys: raw rows of every model
    the hot path reads, converted, are the ORM's instances, types included."""
    realm = RealmFactory(idp_metadata="<xml/>")
    user = RealmUserFactory(realm=realm, external_id=None, attributes={"a": [1, None, {"b": True}], "n": 1.5})
    RealmEmailFactory(user=user, primary=False)
    group = RealmGroupFactory(realm=realm, external_id="ext-1", attributes=[])
    RealmGroupMembershipFactory(group=group, user=user)
    account = ServiceAccountFactory()
    account_services.issue_token(
        account,
        name="okta",
        expires_at=datetime.datetime(2031, 1, 2, 3, 4, 5, 678901, tzinfo=datetime.UTC),
        realm=realm,
    )
    models = (RealmUser, RealmGroup, Realm, RealmCounts, RealmEmail, RealmGroupMembership, APIToken, get_user_model())
    for model in models:
        columns = Columns(model)
        rows = _raw_rows(model)
        assert rows, model
        for row in rows:
            built = columns.instance(row, connection)
            orm = model.objects.get(pk=built.pk)
            assert _fields(built) == _fields(orm), model
            for attname, value in _fields(orm).items():
                assert type(getattr(built, attname)) is type(value), (model, attname)
            assert not built._state.adding and built._state.db == connection.alias
    token = APIToken.objects.get()
    row = _raw_rows(APIToken)[0]
    values = Columns(APIToken).values(row, connection)
    by_name = dict(zip(Columns(APIToken).attnames, values, strict=True))
    assert by_name["expires_at"] == token.expires_at and by_name["expires_at"].tzinfo is not None
    assert isinstance(by_name["realm_id"], uuid.UUID) and by_name["revoked_by_id"] is None


def test_convert_one_value_as_the_orm_would(db):
    user = RealmUserFactory(active=False, attributes={"x": "é"})
    raw = dict(zip(Columns(RealmUser).attnames, _raw_rows(RealmUser)[0], strict=True))
    field = RealmUser._meta.get_field
    assert convert(field("active"), raw["active"], connection) is False
    assert convert(field("attributes"), raw["attributes"], connection) == {"x": "é"}
    assert convert(field("id"), raw["id"], connection) == user.pk
    assert convert(field("realm"), raw["realm_id"], connection) == user.realm_id
    assert convert(field("created_at"), raw["created_at"], connection) == user.created_at
    assert convert(field("external_id"), None, connection) is None


# -------------------------------------------------------------- the token query


def test_a_token_with_its_user_and_permission_names_is_what_the_orm_loads(db, django_assert_num_queries):
    group = GroupFactory(permissions=["realms.view_realmuser", "realms.add_realmuser"])
    account = ServiceAccountFactory(groups=[group])
    account.user_permissions.add(*group.permissions.filter(codename="view_realmuser"))  # granted twice: once
    issued = account_services.issue_token(account, name="okta")
    with django_assert_num_queries(1):
        token = account_services.TOKEN_BY_HASH.first(issued.token.key_hash)
        user = token.user  # read with the token
    orm = APIToken.objects.select_related("user").get(key_hash=issued.token.key_hash)
    assert _fields(token) == _fields(orm)
    assert _fields(user) == _fields(orm.user)
    assert token.permission_names == frozenset({"realms.view_realmuser", "realms.add_realmuser"})
    assert token.permission_names == ModelBackend().get_all_permissions(get_user_model().objects.get(pk=account.pk))
    assert account_services.TOKEN_BY_HASH.first("0" * 64) is None


def test_a_user_without_permissions_has_none(db):
    issued = account_services.issue_token(ServiceAccountFactory(), name="okta")
    assert account_services.TOKEN_BY_HASH.first(issued.token.key_hash).permission_names == frozenset()


def test_a_token_and_a_scim_realm_are_read_in_one_query_each_found_or_not(db, django_assert_num_queries):
    issued = account_services.issue_token(ServiceAccountFactory(), name="okta")
    realm, off = RealmFactory(scim_enabled=True, idp_metadata="<xml/>"), RealmFactory(scim_enabled=False)
    RealmUserFactory(realm=realm)  # the triggers create the realm's counts
    query = account_services.TOKEN_BY_HASH
    with django_assert_num_queries(1):
        token, found = query.with_scim_realm(issued.token.key_hash, realm.pk)
        assert token.user.pk == issued.token.user_id
        assert found.counts_or_none.users == 1 and found.counts.users == 1  # read with the realm
    orm = Realm.objects.defer("idp_metadata").select_related("counts").get(pk=realm.pk)
    assert found.get_deferred_fields() == {"idp_metadata"}  # kilobytes of XML SCIM never needs
    assert _fields(found) == _fields(orm)
    assert _fields(found.counts) == _fields(orm.counts)
    assert query.with_scim_realm(issued.token.key_hash, off.pk)[1] is None  # SCIM off: no realm, the token found
    assert query.with_scim_realm(issued.token.key_hash, uuid.uuid4())[1] is None
    assert query.with_scim_realm("0" * 64, realm.pk) is None  # no token: nothing, whatever the realm
    empty = RealmFactory(scim_enabled=True)
    token, found = query.with_scim_realm(issued.token.key_hash, empty.pk)
    assert found.pk == empty.pk and found.counts_or_none is None  # no user or group ever: no counts row


@pytest.mark.django_db
def test_scim_permissions_come_from_the_names_read_with_the_token(client, django_assert_num_queries):
    """A superuser may do anything; others what their groups and own permissions grant, decided without a query."""
    realm = RealmFactory()
    reader = SCIMClient(client, realm, scim_token(permissions=["realms.view_realmuser"]))
    assert reader.get("/Users").status_code == 200
    assert reader.post("/Users", okta_user("a@example.com")).status_code == 403
    superuser = SuperUserFactory()
    root = SCIMClient(client, realm, account_services.issue_token(superuser, name="root").secret)
    assert root.get("/Users").status_code == 200  # warms last_used_at
    with django_assert_num_queries(2):  # the token with its realm; the page
        assert root.get("/Users").status_code == 200
