"""Querysets compiled once per process (config/compiled.py) give exactly what the ORM gives, on both databases.

The token, realm, user and lookup queries of every SCIM call run through them, so a difference here would be a
wrong answer on every call: these tests compare them with the ORM's own evaluation of the same querysets, and
check that a queryset that is not a template of its arguments is refused rather than run with stale values.
"""

from __future__ import annotations

import json
import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import Value
from django.db.models.functions import Lower
from django.db.transaction import TransactionManagementError
from django.test.utils import CaptureQueriesContext
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from config.compiled import CompiledQuery, Uncompilable, save_together
from realms.aggregates import UserEmailsJSON, UserGroupsJSON, decode_emails, decode_groups
from realms.models import RealmUser
from realms.services import locked_user
from scim.views.base import _UNCOMPILABLE_LOOKUPS, _lookup_query
from scim.views.groups import GroupListView
from scim.views.users import UserListView

from .factories import (
    RealmEmailFactory,
    RealmFactory,
    RealmGroupMembershipFactory,
    RealmUserFactory,
)
from .scim.conftest import SCIMClient, okta_user, scim_token


def _fields(obj) -> dict:
    return {f.attname: getattr(obj, f.attname) for f in obj._meta.concrete_fields}


def test_json_columns_datetimes_and_annotations_come_back_as_the_orm_gives_them(db):
    user = RealmUserFactory(attributes={"userName": "a@example.com", "nested": {"list": [1, "two", None]}})
    RealmEmailFactory(user=user, value="a@example.com", type="work", primary=True)
    RealmEmailFactory(user=user, value="b@example.com", type="home", primary=False)
    membership = RealmGroupMembershipFactory(user=user, group__realm=user.realm, group__display_name='Éq"uipe')
    query = CompiledQuery(
        lambda realm_pk, pk: (
            RealmUser.objects.filter(realm_id=realm_pk, pk=pk)
            .annotate(groups_json=UserGroupsJSON(), emails_json=UserEmailsJSON())
            .order_by()[:1]
        ),
        kinds=["uuid", "uuid"],
    )
    compiled = query.first(user.realm_id, user.pk)
    orm = RealmUser.objects.annotate(groups_json=UserGroupsJSON(), emails_json=UserEmailsJSON()).get(pk=user.pk)
    assert _fields(compiled) == _fields(orm)
    assert compiled.attributes["nested"] == {"list": [1, "two", None]}
    assert compiled.created_at.tzinfo is not None
    assert decode_groups(compiled.groups_json) == [(membership.group_id, 'Éq"uipe')]
    assert decode_emails(compiled.emails_json) == [("a@example.com", "work", True), ("b@example.com", "home", False)]
    assert query.first(uuid.uuid4(), user.pk) is None  # another realm: nothing


def test_a_queryset_that_ignores_or_transforms_its_argument_is_refused(db):
    ignored = CompiledQuery(lambda value: RealmUser.objects.all()[:1], kinds=["str"])
    with pytest.raises(Uncompilable):
        ignored.fetch("x")
    transformed = CompiledQuery(lambda value: RealmUser.objects.filter(username__contains=value), kinds=["str"])
    with pytest.raises(Uncompilable):  # LIKE '%value%': the argument is not a parameter of its own
        transformed.fetch("x")


def test_a_locking_query_needs_a_transaction_as_with_the_orm(transactional_db):
    user = RealmUserFactory()
    with pytest.raises(TransactionManagementError):
        locked_user(user.realm, user.pk)
    with transaction.atomic():
        assert locked_user(user.realm, user.pk).pk == user.pk


def test_the_arguments_of_each_call_are_used_not_those_of_the_first(db):
    realm = RealmFactory()
    users = [RealmUserFactory(realm=realm, username=f"User{i}@Example.com") for i in range(3)]
    query = CompiledQuery(
        lambda realm_pk, name: (
            RealmUser.objects.filter(realm_id=realm_pk)
            .alias(lowered=Lower("username"))
            .filter(lowered=Lower(Value(name)))
            .order_by("created_at")
        ),
        kinds=["uuid", "str"],
    )
    for user in users:
        assert [u.pk for u in query.fetch(realm.pk, user.username.lower())] == [user.pk]


# -------------------------------------------------------------- the SCIM lookup fast path against the ORM path

_names = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00"), min_size=1, max_size=40
)


@pytest.mark.django_db
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(name=_names, other=_names)
def test_an_idp_lookup_answers_what_the_general_filter_answers(client, name, other):
    """`userName eq "…"` takes the compiled path; `not (userName ne "…")` means the same and takes the ORM's."""
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
    ("view", "attr"),
    [
        (UserListView, "username"),
        (UserListView, "externalid"),
        (GroupListView, "displayname"),
        (GroupListView, "externalid"),
    ],
)
@pytest.mark.parametrize("with_related", [False, True])
def test_every_idp_lookup_attribute_takes_the_compiled_path(db, view, attr, with_related):
    """What Okta and Entra look resources up by compiles to a reusable query (no silent fall-back to the ORM)."""
    realm = RealmFactory()
    query = _lookup_query(view, attr, 1, 100, with_related)
    assert query.fetch(realm.pk, "someone@example.com") == []
    assert (view, attr) not in _UNCOMPILABLE_LOOKUPS


# -------------------------------------------------------------- several inserts in one statement


def test_inserted_together_is_what_save_would_have_stored(db):
    from realms.models import AuditEvent, RealmEmail

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
    from realms.models import AuditEvent, RealmEmail

    realm = RealmFactory()
    RealmUserFactory(realm=realm, username="taken@example.com")
    user = RealmUser(realm=realm, username="TAKEN@example.com", attributes={})
    event = AuditEvent(realm=realm, action="user.created", resource_type="User", resource_id=str(user.pk))
    with pytest.raises(IntegrityError), transaction.atomic():
        save_together([user, RealmEmail(user=user, value="taken@example.com"), event])
    assert not RealmEmail.objects.filter(user_id=user.pk).exists()
    assert not AuditEvent.objects.filter(resource_id=str(user.pk)).exists()


def test_an_update_saved_together_writes_every_field_as_save_would(db):
    from realms.models import AuditEvent

    user = RealmUserFactory(username="old@example.com")
    before = RealmUser.objects.get(pk=user.pk).updated_at
    user.username, user.attributes, user.version = "new@example.com", {"title": "CTO"}, user.version + 1
    event = AuditEvent(realm=user.realm, action="user.updated", resource_type="User", resource_id=str(user.pk))
    save_together([user, event])
    stored = RealmUser.objects.get(pk=user.pk)
    assert (stored.username, stored.attributes, stored.version) == ("new@example.com", {"title": "CTO"}, 2)
    assert stored.updated_at > before and stored.updated_at == user.updated_at  # auto_now, as save() sets it
    assert AuditEvent.objects.filter(resource_id=str(user.pk), action="user.updated").count() == 1


def test_replacing_a_user_deleted_meanwhile_is_refused_not_resurrected(db):
    from realms.services import Actor, IdentityError, UserData, replace_user

    user = RealmUserFactory(username="gone@example.com")
    stale = RealmUser.objects.get(pk=user.pk)
    user.delete()
    with pytest.raises(IdentityError, match="deleted meanwhile"), transaction.atomic():
        replace_user(stale, UserData(username="gone@example.com", attributes={"title": "x"}), Actor())
    assert not RealmUser.objects.filter(pk=stale.pk).exists()


@pytest.mark.parametrize("counts", [[1, 1, 2, 2, 3, 0, 1]])
def test_statements_reused_from_call_to_call_bind_each_call_values(db, counts):
    """The second call reuses the first's statement text: rows of any number keep their own values."""
    from realms.models import RealmEmail

    realm = RealmFactory()
    for i, n in enumerate(counts):
        user = RealmUser(realm=realm, username=f"u{i}@example.com", attributes={"i": i}, display_name="" if i else "x")
        emails = [RealmEmail(user=user, value=f"u{i}.{k}@example.com", primary=k == 0) for k in range(n)]
        save_together([user, *emails])
        stored = RealmUser.objects.get(pk=user.pk)
        assert (stored.username, stored.attributes, stored.display_name) == (user.username, {"i": i}, user.display_name)
        assert sorted(stored.emails.values_list("value", "primary")) == [(e.value, e.primary) for e in emails]
