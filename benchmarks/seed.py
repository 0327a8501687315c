"""Seed a realm for a benchmark (run with the project's Python and DATABASE_URL): users, emails, one group.

Rows are written in bulk, the way a long-running Okta push would have left them, with a progress bar on stderr.
Prints one JSON object on stdout: the realm's id, a fresh SCIM token, a few user ids and the group's id.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "console.settings")

import django

django.setup()

from django.db import connection, transaction  # noqa: E402
from harness import progress  # noqa: E402

from realms.models import RealmEmail, RealmGroup, RealmGroupMembership, RealmUser  # noqa: E402
from realms.services import scim_quickstart  # noqa: E402

BATCH = 2000


def user_attributes(i: int, prefix: str) -> dict:
    username = f"{prefix}{i:07d}@example.com"
    return {
        "userName": username,
        "name": {"givenName": "Jane", "familyName": f"Doe{i}"},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": f"Jane Doe{i}",
        "locale": "en-US",
        "externalId": f"00u{prefix}{i:010d}",
    }


def seed(realm_name: str, users: int, group_members: int, prefix: str) -> dict:
    quick = scim_quickstart(realm_name)
    realm = quick.realm
    started = time.monotonic()
    existing = RealmUser.objects.filter(realm=realm).count()
    for start in range(existing, users, BATCH):
        stop = min(start + BATCH, users)
        with transaction.atomic():
            rows = []
            for i in range(start, stop):
                attributes = user_attributes(i, prefix)
                rows.append(
                    RealmUser(
                        realm=realm,
                        username=attributes["userName"],
                        external_id=attributes["externalId"],
                        display_name=attributes["displayName"],
                        given_name="Jane",
                        family_name=f"Doe{i}",
                        attributes=attributes,
                    )
                )
            RealmUser.objects.bulk_create(rows)
            RealmEmail.objects.bulk_create(
                [RealmEmail(user=u, value=u.username, type="work", primary=True) for u in rows]
            )
        progress(stop, users, f"users of {realm_name}", started)
    group = None
    if group_members:
        group, _ = RealmGroup.objects.get_or_create(
            realm=realm, display_name="Everyone", defaults={"attributes": {"displayName": "Everyone"}}
        )
        have = RealmGroupMembership.objects.filter(group=group).count()
        ids = list(
            RealmUser.objects.filter(realm=realm)
            .order_by("created_at", "id")
            .values_list("pk", flat=True)[have:group_members]
        )
        started = time.monotonic()
        for start in range(0, len(ids), BATCH):
            chunk = ids[start : start + BATCH]
            RealmGroupMembership.objects.bulk_create([RealmGroupMembership(group=group, user_id=i) for i in chunk])
            progress(have + start + len(chunk), group_members, "group members", started)
    if connection.vendor == "postgresql" and users:
        # The state of a database that has been running for a while. An empty realm is left as a fresh install
        # leaves it: never analysed (autovacuum analyses a table after its first 50 changes), which PostgreSQL plans
        # as a table of some size; analysed while empty, every prepared plan of the push would be made for an
        # empty table and kept until the next ANALYZE (docs/performance-history.md).
        with connection.cursor() as cursor:
            cursor.execute("VACUUM ANALYZE")
    sample = list(RealmUser.objects.filter(realm=realm).order_by("?").values_list("pk", "username")[:200])
    outside = list(
        RealmUser.objects.filter(realm=realm)
        .exclude(memberships__group=group)
        .order_by("created_at")
        .values_list("pk", flat=True)[:400]
        if group
        else []
    )
    return {
        "realm": str(realm.pk),
        "token": quick.token,
        "users": users,
        "sample": [[str(pk), name] for pk, name in sample],
        "group": str(group.pk) if group else None,
        "group_members": group_members,
        "outside_group": [str(pk) for pk in outside],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--realm", required=True)
    parser.add_argument("--users", type=int, default=1000)
    parser.add_argument("--group-members", type=int, default=0)
    parser.add_argument("--prefix", default="user")
    args = parser.parse_args()
    print(json.dumps(seed(args.realm, args.users, args.group_members, args.prefix)))


if __name__ == "__main__":
    main()
