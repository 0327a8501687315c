"""What the public signals (realms.signals) cost a SCIM call: no receiver against one receiver, in-process.

Run with the project's Python and a DATABASE_URL of a throw-away database (it is migrated and seeded):

    DATABASE_URL=postgres://…/realms_signals .venv/bin/python benchmarks/signals.py [--calls 300] [--rounds 5]

Each SCIM call that changes something goes through Django's WSGI handler as gunicorn hands it a request
(benchmarks/profile_calls.py): POST /Users (realm_user_provisioned), PUT /Users/{id} (realm_user_updated; on
PostgreSQL the PUT without a transaction), PATCH of `active` (realm_user_deactivated/reactivated, under the row
lock) and a group PATCH adding or removing a member (realm_group_members_added/removed). Short blocks of calls alternate
the two set-ups, so that the machine's noise falls on both alike: no receiver connected, and one receiver (doing
nothing) connected to every signal. It prints the median time per call of each and the difference; then, with
timeit, what the services' announce helpers cost when nobody listens (the `has_listeners()` check: no payload,
no on_commit callback).
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import sys
import time
import timeit
import uuid
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from django.core.management import call_command
from django.core.wsgi import get_wsgi_application
from django.db import connection
from profile_calls import call, environ


def user_body(username: str, family: str = "Doe", active: bool = True) -> dict:
    return {
        "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
        "userName": username,
        "name": {"givenName": "Jane", "familyName": family},
        "emails": [{"primary": True, "value": username, "type": "work"}],
        "displayName": f"Jane {family}",
        "externalId": f"00x{uuid.uuid5(uuid.NAMESPACE_URL, username).hex[:12]}",
        "active": active,
        "groups": [],
        "password": "x",
    }


def setup(app) -> dict:
    from realms.services import scim_quickstart

    quick = scim_quickstart("Signals")
    base = f"/api/realms/{quick.realm.pk}/scim/v2"
    token = quick.token
    run = uuid.uuid4().hex[:8]

    def post(path: str, body: dict) -> dict:
        status, out = call(app, environ("POST", f"{base}{path}", token, json.dumps(body).encode()))
        if not status.startswith("201"):
            raise SystemExit(f"setup: {status} {out[:300]!r}")
        return json.loads(out)

    user = post("/Users", user_body(f"put-{run}@example.com"))
    toggled = post("/Users", user_body(f"active-{run}@example.com"))
    member = post("/Users", user_body(f"member-{run}@example.com"))
    group = post("/Groups", {"schemas": ["urn:ietf:params:scim:schemas:core:2.0:Group"], "displayName": run})
    return {
        "token": token,
        "base": base,
        "run": run,
        "user": user,
        "toggled": toggled["id"],
        "member": member["id"],
        "group": group["id"],
    }


def endpoints(ctx: dict) -> dict:
    token, base, run = ctx["token"], ctx["base"], ctx["run"]
    representation = ctx["user"]
    counter = {"post": 0, "put": 0, "active": 0, "members": 0}  # each call changes something: one signal each
    patch = "urn:ietf:params:scim:api:messages:2.0:PatchOp"

    def post_user():
        counter["post"] += 1
        body = user_body(f"new-{run}-{counter['post']}@example.com")
        return environ("POST", f"{base}/Users", token, json.dumps(body).encode())

    def put_user():
        counter["put"] += 1
        representation["name"]["familyName"] = f"Doe{counter['put']}"
        return environ("PUT", f"{base}/Users/{representation['id']}", token, json.dumps(representation).encode())

    def patch_active():
        counter["active"] += 1
        ops = {"schemas": [patch], "Operations": [{"op": "replace", "value": {"active": counter["active"] % 2 == 0}}]}
        return environ("PATCH", f"{base}/Users/{ctx['toggled']}", token, json.dumps(ops).encode())

    def patch_members():
        counter["members"] += 1
        if counter["members"] % 2:
            op = {"op": "add", "path": "members", "value": [{"value": ctx["member"]}]}
        else:
            op = {"op": "remove", "path": f'members[value eq "{ctx["member"]}"]'}
        ops = {"schemas": [patch], "Operations": [op]}
        return environ("PATCH", f"{base}/Groups/{ctx['group']}", token, json.dumps(ops).encode())

    return {
        "POST /Users": post_user,
        "PUT /Users/{id}": put_user,
        "PATCH /Users/{id} active": patch_active,
        "PATCH /Groups/{id} members": patch_members,
    }


def connect_one_receiver(on: bool) -> None:
    from realms import signals

    for name in signals.__all__:
        signal = getattr(signals, name)
        if on:
            signal.connect(_receiver, weak=False, dispatch_uid=f"bench-{name}")
        else:
            signal.disconnect(dispatch_uid=f"bench-{name}")


received = {"n": 0}


def _receiver(sender, **kwargs) -> None:
    received["n"] += 1


def time_calls(app, make_env, calls: int) -> list[float]:
    """The time of each of `calls` calls, in milliseconds."""
    times = []
    for _ in range(calls):
        env = make_env()
        started = time.perf_counter()
        status, body = call(app, env)
        times.append((time.perf_counter() - started) * 1000)
        if not status.startswith(("200", "201", "204")):
            raise SystemExit(f"{status} {body[:300]!r}")
    return times


def idle_cost(number: int = 200_000) -> dict[str, float]:
    """Nanoseconds per call of the announce helpers when nobody listens (what every write pays)."""
    from realms import signals
    from realms.models import AuditEvent, RealmGroup, RealmUser
    from realms.services.audit import Actor, announce_group, announce_group_members, announce_user

    user, group, actor = RealmUser(), RealmGroup(), Actor()
    delta = {"added": [{"id": str(uuid.uuid4())}], "removed": []}

    cases = {
        "announce_user (update)": lambda: announce_user(AuditEvent.Action.USER_UPDATED, user, actor, {}),
        "announce_group (renamed)": lambda: announce_group(signals.realm_group_renamed, group, actor),
        "announce_group_members": lambda: announce_group_members(group, actor, delta),
    }
    return {name: min(timeit.repeat(fn, number=number, repeat=3)) / number * 1e9 for name, fn in cases.items()}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--calls", type=int, default=25, help="calls per endpoint, set-up and round")
    parser.add_argument("--rounds", type=int, default=40)
    args = parser.parse_args()

    call_command("migrate", verbosity=0)
    app = get_wsgi_application()
    calls = endpoints(setup(app))
    results: dict[str, dict[str, list[float]]] = {name: {"none": [], "one": []} for name in calls}
    for round_ in range(args.rounds):
        # Short blocks, in turn and in alternating order: the machine's noise falls on both set-ups alike.
        for setup_name in ("none", "one") if round_ % 2 == 0 else ("one", "none"):
            connect_one_receiver(setup_name == "one")
            for name, make_env in calls.items():
                results[name][setup_name] += time_calls(app, make_env, args.calls)
            connect_one_receiver(False)

    load = " ".join(f"{x:.1f}" for x in os.getloadavg())
    print(f"{connection.vendor}, {args.rounds} rounds of {args.calls} calls per set-up, load average {load}")
    print("| Call (median ms) | no receiver | one receiver | difference |\n| --- | --- | --- | --- |")
    for name, by_setup in results.items():
        none, one = statistics.median(by_setup["none"]), statistics.median(by_setup["one"])
        print(f"| {name} | {none:.3f} | {one:.3f} | {one - none:+.3f} ({(one - none) / none:+.1%}) |")
    print(f"signals received by the receiver: {received['n']} (one per call with it connected)")
    print("\nNobody listening: the announce helpers' cost (timeit, ns per call)")
    for name, ns in idle_cost().items():
        print(f"  {name:28} {ns:7.0f} ns")


if __name__ == "__main__":
    main()
