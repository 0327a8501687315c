"""A group larger than the 65,535 parameters one PostgreSQL statement can bind (prepared statements bind every
value separately): Okta's `replace members []` on it must still apply whole."""

from __future__ import annotations

import pytest

from realms.models import RealmGroup, RealmGroupMembership, RealmUser

from ..factories import RealmFactory
from .conftest import SCIMClient, patch_op, scim_token

pytestmark = pytest.mark.postgres  # SQLite has a limit of its own (32,766 variables), documented in docs/scim.md

SIZE = 70_000


@pytest.mark.django_db
def test_emptying_a_group_of_70000_members_in_one_patch(client):
    realm = RealmFactory()
    users = RealmUser.objects.bulk_create(
        [RealmUser(realm=realm, username=f"m{i:06d}@example.com", attributes={}) for i in range(SIZE)],
        batch_size=10_000,
    )
    group = RealmGroup.objects.create(realm=realm, display_name="Everyone", attributes={"displayName": "Everyone"})
    RealmGroupMembership.objects.bulk_create(
        [RealmGroupMembership(group=group, user=u) for u in users], batch_size=10_000
    )
    scim = SCIMClient(client, realm, scim_token())
    response = scim.patch(f"/Groups/{group.pk}", patch_op({"op": "replace", "path": "members", "value": []}))
    assert response.status_code in (200, 204), response.content[:500]
    assert not RealmGroupMembership.objects.filter(group=group).exists()
    assert RealmUser.objects.filter(realm=realm, version=2).count() == SIZE  # every former member's groups changed
