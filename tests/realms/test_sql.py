"""The hand-written SQL of the hot path (realms/sql/: __init__.py, queries.py, token_query.py) gives exactly what the
ORM gives, on SQLite and PostgreSQL.

The token, realm, user and lookup queries of every SCIM call run through it, so a difference here would be a wrong
answer on every call: these tests compare each with the ORM's evaluation of the equivalent queryset, the values
read through a raw cursor with the values the ORM converts, and the rows save_together writes with what save()
writes.
"""

from __future__ import annotations

import datetime
import json
import uuid

import pytest
from django.contrib.auth import get_user_model
from django.contrib.auth.backends import ModelBackend
from django.db import IntegrityError, connection, transaction
from django.db.models import Exists, OuterRef
from django.db.models.functions import Lower
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from realms.models import (
    APIToken,
    AuditEvent,
    Realm,
    RealmCounts,
    RealmEmail,
    RealmGroup,
    RealmGroupMembership,
    RealmGroupRoleMapping,
    RealmUser,
)
from realms.services import accounts as account_services
from realms.services import locked_user
from realms.sql import Columns, convert, fetch, queries, table_fields
from realms.sql.aggregates import UserEmailsJSON, UserGroupsJSON, decode_emails, decode_groups
from realms.sql.token_query import realm_counts_read
from realms.sql.writes import save_if_version, save_together
from scim.views.groups import GroupViewSet
from scim.views.parsing import parse_list_query
from scim.views.reads import LOOKUP_ATTRIBUTES
from scim.views.users import UserViewSet

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


def test_decimals_and_durations_a_host_model_may_have_convert_as_the_orm_would(db):
    """No model of ours has them, a host's user model may: SQLite returns a REAL and microseconds."""
    from decimal import Decimal

    from django.db import models

    if connection.vendor == "sqlite":
        sql = "SELECT 1.1, 90061000001, 12"
    else:
        sql = (
            "SELECT CAST(1.1 AS numeric(5, 2)), interval '1 day 1 hour 1 minute 1.000001 second', "
            "CAST(12 AS numeric(5, 2))"
        )
    price, duration, whole = fetch(sql, [])[0]
    amount = models.DecimalField(max_digits=5, decimal_places=2)
    assert str(convert(amount, price, connection)) == "1.10"
    assert str(convert(amount, whole, connection)) == "12.00"
    assert convert(models.DurationField(), duration, connection) == datetime.timedelta(1, 3661, 1)
    assert isinstance(convert(amount, price, connection), Decimal)


# -------------------------------------------------------------- the token query


def test_a_token_with_its_user_and_permission_names_is_what_the_orm_loads(db, django_assert_num_queries):
    group = GroupFactory(permissions=["realms.view_realmuser", "realms.add_realmuser"])
    account = ServiceAccountFactory(groups=[group])
    account.user_permissions.add(*group.permissions.filter(codename="view_realmuser"))  # granted twice: once
    issued = account_services.issue_token(account, name="okta")
    account_services.TOKEN_BY_HASH.first(issued.token.key_hash)  # the process reads the permissions' names once
    with django_assert_num_queries(1):
        token = account_services.TOKEN_BY_HASH.first(issued.token.key_hash)
        user = token.user  # read with the token
    orm = APIToken.objects.select_related("user").get(key_hash=issued.token.key_hash)
    assert _fields(token) == _fields(orm)
    assert _fields(user) == _fields(orm.user)
    assert token.permission_names == frozenset({"realms.view_realmuser", "realms.add_realmuser"})
    assert token.permission_names == ModelBackend().get_all_permissions(get_user_model().objects.get(pk=account.pk))
    assert account_services.TOKEN_BY_HASH.first("0" * 64) is None


def test_permission_names_are_read_once_then_again_for_a_permission_created_since(db, django_assert_num_queries):
    from django.contrib.auth.models import Permission
    from django.contrib.contenttypes.models import ContentType

    from realms.sql.token_query import permission_names

    group = GroupFactory(permissions=["realms.view_realmuser"])
    issued = account_services.issue_token(ServiceAccountFactory(groups=[group]), name="okta")
    permission_names.clear()
    with django_assert_num_queries(2):  # the token, then the map of permission names
        assert account_services.TOKEN_BY_HASH.first(issued.token.key_hash).permission_names == {"realms.view_realmuser"}
    with django_assert_num_queries(1):
        account_services.TOKEN_BY_HASH.first(issued.token.key_hash)
    # Created without signals (as another process would): the token's new id is not in the map, which is read again.
    new = Permission.objects.bulk_create(
        [
            Permission(
                codename="export_realmuser", name="Export", content_type=ContentType.objects.get_for_model(RealmUser)
            )
        ]
    )
    group.permissions.add(*new)
    with django_assert_num_queries(2):
        names = account_services.TOKEN_BY_HASH.first(issued.token.key_hash).permission_names
    assert names == {"realms.view_realmuser", "realms.export_realmuser"}
    # Revoked: the grants are read with every token, the map is not needed again.
    group.permissions.remove(*new)
    with django_assert_num_queries(1):
        assert account_services.TOKEN_BY_HASH.first(issued.token.key_hash).permission_names == {"realms.view_realmuser"}


def test_a_user_without_permissions_has_none(db):
    issued = account_services.issue_token(ServiceAccountFactory(), name="okta")
    assert account_services.TOKEN_BY_HASH.first(issued.token.key_hash).permission_names == frozenset()


def test_a_token_and_a_scim_realm_are_read_in_one_query_each_found_or_not(db, django_assert_num_queries):
    issued = account_services.issue_token(ServiceAccountFactory(), name="okta")
    realm, off = RealmFactory(scim_enabled=True, idp_metadata="<xml/>"), RealmFactory(scim_enabled=False)
    RealmUserFactory(realm=realm)  # the triggers create the realm's counts
    query = account_services.TOKEN_BY_HASH
    query.first(issued.token.key_hash)  # the permission names' map, read once per process (PermissionNames)
    with django_assert_num_queries(1):
        token, found = query.with_scim_realm(issued.token.key_hash, realm.pk)
        assert token.user.pk == issued.token.user_id
        read_with_token, counts = realm_counts_read(found)  # read with the realm, built when asked for
        assert read_with_token and counts.users == 1 and found.counts.users == 1
    orm = Realm.objects.defer("idp_metadata").select_related("counts").get(pk=realm.pk)
    assert found.get_deferred_fields() == {"idp_metadata"}  # kilobytes of XML SCIM never needs
    assert _fields(found) == _fields(orm)
    assert _fields(found.counts) == _fields(orm.counts)
    assert query.with_scim_realm(issued.token.key_hash, off.pk)[1] is None  # SCIM off: no realm, the token found
    assert query.with_scim_realm(issued.token.key_hash, uuid.uuid4())[1] is None
    assert query.with_scim_realm("0" * 64, realm.pk) is None  # no token: nothing, whatever the realm
    empty = RealmFactory(scim_enabled=True)
    token, found = query.with_scim_realm(issued.token.key_hash, empty.pk)
    assert found.pk == empty.pk and realm_counts_read(found) == (True, None)  # no user or group ever: no counts row
    assert realm_counts_read(Realm.objects.get(pk=empty.pk)) == (False, None)  # not read with a token


@pytest.mark.django_db
def test_scim_permissions_come_from_the_names_read_with_the_token(client, django_assert_num_queries):
    """A superuser may do anything; others what their groups and own permissions grant, decided without a query,
    and read again on every call."""
    from django.contrib.auth.models import Group

    realm = RealmFactory()
    reader = SCIMClient(client, realm, scim_token(permissions=["realms.view_realmuser"]))
    assert reader.get("/Users").status_code == 200
    assert reader.post("/Users", okta_user("a@example.com")).status_code == 403
    Group.objects.filter(
        user__realms_api_tokens__isnull=False, permissions__codename="view_realmuser"
    ).get().permissions.clear()
    assert reader.get("/Users").status_code == 403  # taken away: the next call knows it
    direct = ServiceAccountFactory()
    direct.user_permissions.add(*GroupFactory(permissions=["realms.add_realmuser"]).permissions.all())
    writer = SCIMClient(client, realm, account_services.issue_token(direct, name="direct").secret)
    assert writer.post("/Users", okta_user("b@example.com")).status_code == 201  # granted to the user itself
    assert writer.get("/Users").status_code == 403
    superuser = SuperUserFactory()
    root = SCIMClient(client, realm, account_services.issue_token(superuser, name="root").secret)
    assert root.get("/Users").status_code == 200  # warms last_used_at
    with django_assert_num_queries(2):  # the token with its realm; the page
        assert root.get("/Users").status_code == 200


# -------------------------------------------------------------- one resource, locked resources, rename conflicts


def test_a_user_with_its_groups_and_emails_is_what_the_orm_gives(db):
    user = RealmUserFactory(attributes={"userName": "a@example.com", "nested": {"list": [1, "two", None]}})
    RealmEmailFactory(user=user, value="a@example.com", type="work", primary=True)
    RealmEmailFactory(user=user, value="b@example.com", type="home", primary=False)
    membership = RealmGroupMembershipFactory(user=user, group__realm=user.realm, group__display_name='Éq"uipe')
    found = queries.resource(RealmUser, user.realm_id, user.pk, with_groups=True)
    orm = RealmUser.objects.annotate(groups_json=UserGroupsJSON(), emails_json=UserEmailsJSON()).get(pk=user.pk)
    assert _fields(found) == _fields(orm)
    assert found.attributes["nested"] == {"list": [1, "two", None]}
    assert found.created_at.tzinfo is not None
    assert decode_groups(found.groups_json) == decode_groups(orm.groups_json) == [(membership.group_id, 'Éq"uipe')]
    assert queries.resource(RealmUser, uuid.uuid4(), user.pk) is None  # another realm: nothing
    plain = queries.resource(RealmUser, user.realm_id, user.pk)
    assert _fields(plain) == _fields(orm) and not hasattr(plain, "groups_json")
    with transaction.atomic():
        locked = locked_user(user.realm, user.pk)
    assert _fields(locked) == _fields(orm)
    assert decode_emails(locked.emails_json) == decode_emails(orm.emails_json)
    assert decode_emails(locked.emails_json) == [("a@example.com", "work", True), ("b@example.com", "home", False)]
    assert decode_groups(locked.groups_json) == [(membership.group_id, 'Éq"uipe')]


def test_a_group_locked_with_whether_it_maps_to_roles(db):
    group, mapped = RealmGroupFactory(), RealmGroupFactory()
    RealmGroupRoleMapping.objects.create(realm_group=mapped, role=GroupFactory())
    orm = RealmGroup.objects.annotate(
        has_role_mappings=Exists(RealmGroupRoleMapping.objects.filter(realm_group=OuterRef("pk")))
    )
    with transaction.atomic():
        for g in (group, mapped):
            locked = queries.locked_group(g.realm_id, g.pk)
            expected = orm.get(pk=g.pk)
            assert _fields(locked) == _fields(expected)
            assert locked.has_role_mappings is expected.has_role_mappings
        assert queries.locked_group(uuid.uuid4(), group.pk) is None
    assert queries.resource(RealmGroup, group.realm_id, group.pk).display_name == group.display_name


def test_a_locking_query_needs_a_transaction_as_with_the_orm(transactional_db):
    user = RealmUserFactory()
    with pytest.raises(TransactionManagementError):
        locked_user(user.realm, user.pk)
    with pytest.raises(TransactionManagementError):
        queries.locked_group(user.realm_id, uuid.uuid4())
    with transaction.atomic():
        assert locked_user(user.realm, user.pk).pk == user.pk


@pytest.mark.postgres
def test_a_locked_user_is_locked_only_for_update_of_its_own_row(transactional_db):
    user = RealmUserFactory()
    with transaction.atomic(), CaptureQueriesContext(connection) as captured:
        locked_user(user.realm, user.pk)
    assert captured.captured_queries[-1]["sql"].endswith(f'FOR UPDATE OF "{RealmUser._meta.db_table}"')


@pytest.mark.parametrize(("model", "name_field"), [(RealmUser, "username"), (RealmGroup, "display_name")])
def test_rename_conflicts_are_the_other_rows_holding_the_name_or_the_external_id(db, model, name_field):
    realm = RealmFactory()
    make = RealmUserFactory if model is RealmUser else RealmGroupFactory
    own = make(realm=realm, external_id="own", **{name_field: "Own"})
    make(realm=realm, external_id="ext-a", **{name_field: "Taken"})
    make(realm=realm, external_id=None, **{name_field: "Other"})
    make(realm=RealmFactory(), external_id="ext-b", **{name_field: "Elsewhere"})

    def conflicts(name, external_id=None):
        return sorted(
            queries.rename_conflicts(model, name_field, realm.pk, own.pk, name, external_id), key=lambda e: e or ""
        )

    expected = model.objects.filter(realm=realm).annotate(lowered=Lower(name_field)).exclude(pk=own.pk)
    assert conflicts("TAKEN") == ["ext-a"] == [o.external_id for o in expected.filter(lowered="taken")]
    assert conflicts("own") == [] and conflicts("Own", "own") == []  # the row itself is no conflict
    assert conflicts("free", "ext-a") == ["ext-a"]
    assert conflicts("other", "ext-a") == [None, "ext-a"]
    assert conflicts("elsewhere", "ext-b") == []  # another realm's


# -------------------------------------------------------------- the IdP lookups against the general filter

_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_names, other=_names)
def test_an_idp_lookup_answers_what_the_general_filter_answers(client, name, other):
    """`userName eq "…"` takes the hand-written path; `not (userName ne "…")` means the same and takes the ORM's."""
    realm = RealmFactory()
    scim = SCIMClient(client, realm, scim_token())
    created = [scim.post("/Users", okta_user(u)).status_code for u in dict.fromkeys([name, other, name.upper()])]
    quoted = json.dumps(name)  # a SCIM filter's string is a JSON string
    fast = scim.client.get(
        scim.url("/Users"),
        {"filter": f"userName eq {quoted}", "count": "10"},
        HTTP_AUTHORIZATION=f"Bearer {scim.token}",
    )
    general = scim.client.get(
        scim.url("/Users"),
        {"filter": f"not (userName ne {quoted})", "count": "10"},
        HTTP_AUTHORIZATION=f"Bearer {scim.token}",
    )
    assert fast.status_code == general.status_code == 200, (fast.content, general.content)
    assert fast.json() == general.json()
    assert fast.json()["totalResults"] == (1 if created[0] == 201 else 0)


@pytest.mark.parametrize(
    ("view", "attr", "value"),
    [
        (UserViewSet, "userName", "Someone@Example.com"),
        (UserViewSet, "externalId", "00u1AbC"),
        (GroupViewSet, "displayName", "Team A"),
        (GroupViewSet, "externalId", "00g1AbC"),
    ],
)
@pytest.mark.parametrize("wanted", [False, True])
@pytest.mark.parametrize(("start_index", "count"), [(1, 100), (1, 1), (2, 5)])
def test_every_idp_lookup_takes_the_hand_written_path_with_the_filters_answer(
    db, view, attr, value, wanted, start_index, count
):
    """What Okta and Entra look resources up by is served by realms.sql.queries.lookup, with the answer of the
    filter compiler's queryset: the same rows, in the same order, from the same position."""
    realm = RealmFactory()
    make = RealmUserFactory if view is UserViewSet else RealmGroupFactory
    name_field = "username" if view is UserViewSet else "display_name"
    for i in range(3):  # a match (by case-insensitive name or exact externalId), then near misses
        make(realm=realm, external_id=value if i == 0 else value.upper() + str(i), **{name_field: f"{value}{i}"})
    make(realm=realm, **{name_field: value.upper() if attr != "externalId" else "x"})
    make(realm=RealmFactory(), external_id=value, **{name_field: value})  # another realm's
    mixin = view()
    mixin.realm = realm
    query = parse_list_query({"filter": f"{attr} eq {json.dumps(value)}", "startIndex": start_index, "count": count})
    assert attr.lower() in LOOKUP_ATTRIBUTES[view.resource_type]
    fast = mixin._lookup(query, wanted)
    assert fast is not None, "this lookup must take the hand-written path"
    queryset, ordering = mixin._filtered(query)
    general = list(queryset.order_by(*ordering)[start_index - 1 : start_index - 1 + count])
    assert [_fields(o) for o in fast] == [_fields(o) for o in general]
    inline = wanted and view is UserViewSet
    assert all(hasattr(o, "groups_json") == inline for o in fast)


# -------------------------------------------------------------- several writes in one statement


def test_inserted_together_is_what_save_would_have_stored(db):
    realm = RealmFactory()
    user = RealmUser(realm=realm, username="Ada@Example.com", attributes={"name": {"givenName": "Ada"}})
    emails = [
        RealmEmail(user=user, value="ada@example.com", type="work", primary=True),
        RealmEmail(user=user, value="a@x.org"),
    ]
    event = AuditEvent(
        realm=realm, action="user.created", resource_type="User", resource_id=str(user.pk), changes={"a": [1]}
    )
    with CaptureQueriesContext(connection) as captured:
        save_together([user, *emails, event])
    writes = [q["sql"] for q in captured.captured_queries if not q["sql"].startswith(("SAVEPOINT", "RELEASE"))]
    assert len(writes) == (1 if connection.vendor == "postgresql" else 3), writes  # one statement, or one per model
    stored = RealmUser.objects.get(pk=user.pk)
    assert _fields(stored) == _fields(user)  # defaults and auto_now_add filled in on the instance as by save()
    assert user.created_at is not None and not user._state.adding
    assert [(e.value, e.type, e.primary) for e in stored.emails.order_by("id")] == [
        ("ada@example.com", "work", True),
        ("a@x.org", "", False),
    ]
    assert AuditEvent.objects.get(resource_id=str(user.pk)).changes == {"a": [1]}


def test_nothing_is_inserted_when_one_insert_fails(transactional_db):
    realm = RealmFactory()
    RealmUserFactory(realm=realm, username="taken@example.com")
    user = RealmUser(realm=realm, username="TAKEN@example.com", attributes={})
    event = AuditEvent(realm=realm, action="user.created", resource_type="User", resource_id=str(user.pk))
    with pytest.raises(IntegrityError), transaction.atomic():
        save_together([user, RealmEmail(user=user, value="taken@example.com"), event])
    assert not RealmEmail.objects.filter(user_id=user.pk).exists()
    assert not AuditEvent.objects.filter(resource_id=str(user.pk)).exists()


def test_an_update_saved_together_writes_every_field_as_save_would(db):
    user = RealmUserFactory(username="old@example.com")
    before = RealmUser.objects.get(pk=user.pk).updated_at
    user.username, user.attributes, user.version = "new@example.com", {"title": "CTO"}, user.version + 1
    event = AuditEvent(realm=user.realm, action="user.updated", resource_type="User", resource_id=str(user.pk))
    save_together([user, event])
    stored = RealmUser.objects.get(pk=user.pk)
    assert (stored.username, stored.attributes, stored.version) == ("new@example.com", {"title": "CTO"}, 2)
    assert stored.updated_at > before and stored.updated_at == user.updated_at  # auto_now, as save() sets it
    assert AuditEvent.objects.filter(resource_id=str(user.pk), action="user.updated").count() == 1


def test_expressions_and_half_numbered_rows_are_refused(db):
    from django.db.models import F

    user = RealmUserFactory()
    user.version = F("version") + 1
    with pytest.raises(ValueError, match="expression"):
        save_together([user])
    realm = RealmFactory()
    with pytest.raises(ValueError, match="primary key"):
        save_together([AuditEvent(realm=realm, action="x"), AuditEvent(pk=10**9, realm=realm, action="y")])


def test_replacing_a_user_deleted_meanwhile_is_refused_not_resurrected(db):
    from realms.services import Actor, IdentityError, UserData, replace_user

    user = RealmUserFactory(username="gone@example.com")
    stale = RealmUser.objects.get(pk=user.pk)
    user.delete()
    with pytest.raises(IdentityError, match="deleted meanwhile"), transaction.atomic():
        replace_user(stale, UserData(username="gone@example.com", attributes={"title": "x"}), Actor())
    assert not RealmUser.objects.filter(pk=stale.pk).exists()


@pytest.mark.parametrize("counts", [[1, 1, 2, 2, 3, 0, 1, 20]])
def test_statements_reused_from_call_to_call_bind_each_call_values(db, counts):
    """The second call reuses the first's statement text: rows of any number keep their own values."""
    realm = RealmFactory()
    for i, n in enumerate(counts):
        user = RealmUser(realm=realm, username=f"u{i}@example.com", attributes={"i": i}, display_name="" if i else "x")
        emails = [RealmEmail(user=user, value=f"u{i}.{k}@example.com", primary=k == 0) for k in range(n)]
        save_together([user, *emails])
        stored = RealmUser.objects.get(pk=user.pk)
        assert (stored.username, stored.attributes, stored.display_name) == (user.username, {"i": i}, user.display_name)
        assert sorted(stored.emails.values_list("value", "primary")) == sorted((e.value, e.primary) for e in emails)


def _read_alone(read: queries.Read, db) -> str:
    """The row `read` names, as the token's statement reads it (its join), in a statement of its own."""
    return f"SELECT read_row.* FROM (SELECT 1) one{read.join(db)}"


@pytest.mark.django_db(transaction=True)
def test_a_replacement_from_a_stale_read_writes_nothing_and_the_locked_one_then_does():
    """replace_user_if_unchanged writes only if the user still holds the version it was read at; otherwise nothing
    (no user change, no email, no audit event), and the caller's locked replacement decides again. One statement
    on PostgreSQL, a transaction of the writes alone on SQLite: the same outcome."""
    from realms import services
    from scim.resources import parse_user

    db = connection
    realm = RealmFactory(scim_enabled=True)
    user = RealmUserFactory(realm=realm, username="ada@example.com")
    read = queries.Read(RealmUser, "id", user.pk, with_groups=True, with_emails=True)
    with db.cursor() as cursor:
        cursor.execute(_read_alone(read, db), read.params(realm.pk, db))
        stale = read.instance(cursor.fetchone(), db)
    RealmUser.objects.filter(pk=user.pk).update(version=user.version + 1)  # somebody wrote it meanwhile
    data = parse_user({"userName": "ada@example.com", "title": "Engineer", "emails": [{"value": "ada@example.com"}]})
    events = AuditEvent.objects.count()
    assert services.replace_user_if_unchanged(stale, data, services.Actor()) is None
    assert AuditEvent.objects.count() == events and not RealmEmail.objects.filter(user=user).exists()
    assert "title" not in RealmUser.objects.get(pk=user.pk).attributes
    fresh = services.replace_user(RealmUser.objects.get(pk=user.pk), data, services.Actor())
    assert fresh.version == user.version + 2 and RealmUser.objects.get(pk=user.pk).attributes["title"] == "Engineer"
    # Read again (current version): written in one statement.
    with db.cursor() as cursor:
        cursor.execute(_read_alone(read, db), read.params(realm.pk, db))
        current = read.instance(cursor.fetchone(), db)
    data = parse_user({"userName": "ada@example.com", "title": "CTO", "emails": [{"value": "ada@example.com"}]})
    written = services.replace_user_if_unchanged(current, data, services.Actor())
    assert written is not None and written.version == user.version + 3
    assert RealmUser.objects.get(pk=user.pk).attributes["title"] == "CTO"
    assert AuditEvent.objects.filter(resource_id=str(user.pk)).count() == 2


def _updates_of_users(queries_run) -> list[str]:
    """The SET lists of the UPDATEs of realms_realmuser in captured queries, lower-cased."""
    table = RealmUser._meta.db_table
    return [
        q["sql"].lower().split(" set ", 1)[1].split(" where ", 1)[0]
        for q in queries_run
        if f'update "{table}" set' in q["sql"].lower()
    ]


@pytest.mark.django_db(transaction=True)
def test_a_profile_change_without_the_lock_writes_only_the_columns_it_can_change():
    """Okta's PUT of a changed profile (the compare-and-swap path) sets only the columns that path can change: on
    SQLite, every column an UPDATE sets rewrites the entries of its indexes, changed or not (the realm, creation
    time and id index, the externalId and userName ones). A letter-case change of userName is written; the
    columns left out keep what the row holds."""
    from realms import services
    from scim.resources import parse_user

    db = connection
    realm = RealmFactory(scim_enabled=True)
    user = RealmUserFactory(realm=realm, username="ada@example.com", external_id="00u1")
    read = queries.Read(RealmUser, "id", user.pk, with_groups=True, with_emails=True)

    def current() -> RealmUser:
        with db.cursor() as cursor:
            cursor.execute(_read_alone(read, db), read.params(realm.pk, db))
            return read.instance(cursor.fetchone(), db)

    profile = {"userName": "ada@example.com", "externalId": "00u1", "name": {"familyName": "Lovelace"}}
    with CaptureQueriesContext(db) as captured:
        written = services.replace_user_if_unchanged(current(), parse_user(profile), services.Actor())
    assert written is not None
    (assignments,) = _updates_of_users(captured.captured_queries)
    for column in ("family_name", "attributes", "version", "updated_at"):
        assert f'"{column}" =' in assignments
    for column in ("username", "external_id", "active", "realm_id", "created_at"):
        assert f'"{column}" =' not in assignments
    stored = RealmUser.objects.get(pk=user.pk)
    assert (stored.family_name, stored.version, stored.username, stored.external_id, stored.active) == (
        "Lovelace",
        user.version + 1,
        "ada@example.com",
        "00u1",
        True,
    )
    assert stored.created_at == user.created_at and stored.updated_at > user.updated_at

    renamed = {**profile, "userName": "Ada@Example.com"}
    with CaptureQueriesContext(db) as captured:
        assert services.replace_user_if_unchanged(current(), parse_user(renamed), services.Actor()) is not None
    (assignments,) = _updates_of_users(captured.captured_queries)
    assert '"username" =' in assignments
    assert RealmUser.objects.get(pk=user.pk).username == "Ada@Example.com"


@pytest.mark.django_db
def test_save_if_version_writes_only_the_named_fields():
    """update_fields, as for save(): the other fields keep what the row holds, whatever the instance holds."""
    user = RealmUserFactory(username="grace@example.com", given_name="Grace", active=True)
    user.given_name, user.active, user.version = "G.", False, user.version + 1
    assert save_if_version(user, user.version - 1, update_fields=["given_name", "version"])
    stored = RealmUser.objects.get(pk=user.pk)
    assert (stored.given_name, stored.active, stored.version) == ("G.", True, user.version)
    with pytest.raises(ValueError, match="nickname"):
        save_if_version(user, user.version, update_fields=["given_name", "nickname"])
