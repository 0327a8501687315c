"""Search realm users and groups the way an Okta admin types: any letter case, no accents, Okta's user id
(externalId) or the SCIM id, with the same results on SQLite and PostgreSQL."""

import re

import pytest

from realms.models import RealmEmail
from realms.sql.search import fold

from ..factories import RealmFactory, RealmGroupFactory, RealmGroupMembershipFactory, RealmUserFactory


def usernames(page: str) -> list[str]:
    return re.findall(r'/users/[0-9a-f-]{36}/">([^<]+)</a>', page)


@pytest.fixture
def people(db):
    realm = RealmFactory(name="Okta")
    muller = RealmUserFactory(
        realm=realm,
        username="jurgen@example.com",
        given_name="Jürgen",
        family_name="Müller",
        display_name="Jürgen Müller",
        external_id="00u1AbCdEfGhIjKlMn",
    )
    RealmEmail.objects.create(user=muller, value="Jürgen.Müller@Exämple.com", primary=True)
    zoe = RealmUserFactory(
        realm=realm, username="ZOË@EXAMPLE.COM", given_name="Zoë", family_name="Łukasiewicz", external_id="00u2zoe"
    )
    plain = RealmUserFactory(realm=realm, username="bob@example.com", given_name="Bob", family_name="Adams")
    RealmUserFactory(realm=RealmFactory(name="Other"), username="muller@other.example", family_name="Müller")
    return realm, muller, zoe, plain


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ("MULLER", ["jurgen@example.com"]),  # no accent, another case
        ("müller", ["jurgen@example.com"]),
        ("JÜRGEN", ["jurgen@example.com"]),
        ("exämple.com", ["bob@example.com", "jurgen@example.com", "ZOË@EXAMPLE.COM"]),
        ("jurgen.muller@example", ["jurgen@example.com"]),  # an email, folded both ways
        ("zoe@", ["ZOË@EXAMPLE.COM"]),
        ("lukasiewicz", ["ZOË@EXAMPLE.COM"]),  # Ł has no decomposition: folded by the table
        ("00u1abcdefghijklmn", ["jurgen@example.com"]),  # Okta's user id, any case
        ("00U2", ["ZOË@EXAMPLE.COM"]),
        ("adams", ["bob@example.com"]),
        ("nobody", []),
        ("50%", []),  # LIKE wildcards are searched literally
        ("_", []),
    ],
)
def test_search_ignores_case_and_accents(admin_client, people, query, expected):
    realm = people[0]
    page = admin_client.get(f"/realms/{realm.pk}/users/", {"q": query}).content.decode()
    assert sorted(usernames(page)) == sorted(expected)


def test_search_by_scim_id_finds_the_user(admin_client, people):
    realm, muller, *_ = people
    page = admin_client.get(f"/realms/{realm.pk}/users/", {"q": str(muller.pk).upper()}).content.decode()
    assert usernames(page) == ["jurgen@example.com"]
    assert 'placeholder="userName, name, email, externalId or SCIM id"' in page


def test_group_members_and_groups_are_searched_the_same_way(admin_client, people):
    realm, muller, zoe, _ = people
    group = RealmGroupFactory(realm=realm, display_name="Équipe Zürich", external_id="00g1ZRH")
    RealmGroupMembershipFactory(group=group, user=muller)
    RealmGroupMembershipFactory(group=group, user=zoe)
    members = admin_client.get(f"/realms/{realm.pk}/groups/{group.pk}/", {"q": "MULLER"}).content.decode()
    assert usernames(members) == ["jurgen@example.com"]
    for query in ("equipe zurich", "ZURICH", "00g1zrh", str(group.pk)):
        groups = admin_client.get(f"/realms/{realm.pk}/groups/", {"q": query}).content.decode()
        assert "Équipe Zürich" in groups, query
    assert "Équipe Zürich" not in admin_client.get(f"/realms/{realm.pk}/groups/", {"q": "paris"}).content.decode()


def test_fold_in_python_and_in_sql_agree(people):
    from django.db.models import Value

    from realms.models import RealmUser
    from realms.sql.search import Folded

    samples = ["Ångström", "ŁÓDŹ", "Nguyễn Văn", "Øre", "ÇA", "straße", "Æsir", "ﬁle", "Ελλάδα", "mixed Ü", "plain"]
    row = RealmUser.objects.annotate(**{f"s{i}": Folded(Value(text)) for i, text in enumerate(samples)}).first()
    assert [getattr(row, f"s{i}") for i in range(len(samples))] == [fold(text) for text in samples]
    assert fold("Ångström Łódź Nguyễn Øre ÇA") == "angstrom lodz nguyen ore ca"
    assert fold("straße") == "straße"  # one letter to two: left as typed (docs/architecture.md)
