"""Where the time of a SCIM call goes, in-process: cProfile over the WSGI application, no HTTP server.

Run with the project's Python and a DATABASE_URL of a throw-away database (it is migrated and seeded):

    DATABASE_URL=postgres://…/realms_profile .venv/bin/python benchmarks/profile_calls.py [--calls 2000]

Each call goes through Django's WSGI handler exactly as gunicorn hands it a request (middleware, URL resolution,
DRF, the views, the database), one after the other on one connection. For each endpoint it prints the median
time per call (interleaved rounds) and the share of the time spent in each layer, from the profile: token
authentication, DRF's dispatch, URL/header checks, request parsing, SQL (the driver), rendering, the request log,
Django's middleware and handler. `--dump DIR` writes one .prof per endpoint (snakeviz, or `python -m pstats`).
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_settings")
sys.path.insert(0, str(Path(__file__).resolve().parent))
os.environ.setdefault("SECRET_KEY", "profile-only-" + "x" * 50)
os.environ.setdefault("ALLOWED_HOSTS", "testserver,localhost,127.0.0.1")
os.environ.setdefault("DEBUG", "0")
os.environ.setdefault("HTTPS", "0")
os.environ.setdefault("CONN_MAX_AGE", "600")
os.environ.setdefault("LOG_LEVEL", "WARNING")

import django

django.setup()

from django.core.management import call_command  # noqa: E402
from django.core.wsgi import get_wsgi_application  # noqa: E402

# The layers a call's time is put in, by the file its functions live in (first match wins, innermost frame).
LAYERS: list[tuple[str, tuple[str, ...]]] = [
    ("sql (driver)", ("psycopg/", "sqlite3/", "django/db/backends/")),
    ("token auth", ("realms/authentication.py", "realms/token_query.py", "scim/authentication.py")),
    ("request log", ("scim/request_log.py",)),
    ("throttle", ("scim/throttling.py", "rest_framework/throttling.py", "django/core/cache/")),
    ("filter parse/compile", ("scim/filters/",)),
    ("patch/resources", ("scim/patch.py", "scim/resources.py", "scim/schemas/", "scim/selection.py")),
    ("services", ("realms/services/", "realms/sql.py", "realms/queries.py", "realms/aggregates.py")),
    ("render/parse json", ("scim/negotiation.py", "json/", "rest_framework/renderers.py", "rest_framework/parsers.py")),
    ("scim views", ("scim/views/",)),
    ("drf dispatch", ("rest_framework/",)),
    ("url resolution", ("django/urls/",)),
    ("django handler/middleware", ("django/",)),
]


def environ(
    method: str, path: str, token: str, body: bytes = b"", query: str = "", accept: str = "application/scim+json"
) -> dict:
    env = {
        "REQUEST_METHOD": method,
        "PATH_INFO": path,
        "QUERY_STRING": query,
        "SERVER_NAME": "localhost",
        "SERVER_PORT": "8000",
        "HTTP_HOST": "localhost",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "wsgi.url_scheme": "http",
        "wsgi.input": io.BytesIO(body),
        "wsgi.errors": sys.stderr,
        "wsgi.multithread": False,
        "wsgi.multiprocess": True,
        "wsgi.run_once": False,
        "HTTP_AUTHORIZATION": f"Bearer {token}",
        "HTTP_ACCEPT": accept,
    }
    if body:
        env["CONTENT_TYPE"] = "application/scim+json; charset=utf-8"
        env["CONTENT_LENGTH"] = str(len(body))
    return env


def seed(users: int) -> dict:
    from realms.models import RealmUser
    from realms.services import scim_quickstart

    quick = scim_quickstart("Profile")
    realm = quick.realm
    RealmUser.objects.filter(realm=realm).delete()
    app = get_wsgi_application()
    base = f"/api/realms/{realm.pk}/scim/v2"
    ids = []
    for i in range(users):
        body = json.dumps(
            {
                "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
                "userName": f"user{i:05d}@example.com",
                "name": {"givenName": "Jane", "familyName": f"Doe{i}"},
                "emails": [{"primary": True, "value": f"user{i:05d}@example.com", "type": "work"}],
                "displayName": f"Jane Doe{i}",
                "locale": "en-US",
                "externalId": f"00u{i:010d}",
                "active": True,
            }
        ).encode()
        out = call(app, environ("POST", f"{base}/Users", quick.token, body))
        if not out[0].startswith("201"):
            raise SystemExit(f"seed: {out[0]} {out[1][:300]!r}")
        ids.append(json.loads(out[1])["id"])
    return {"token": quick.token, "base": base, "ids": ids}


def call(app, env) -> tuple[str, bytes]:
    status = {}

    def start_response(s, headers, exc_info=None):
        status["s"] = s

    result = app(env, start_response)
    body = b"".join(result)
    if hasattr(result, "close"):
        result.close()
    return status["s"], body


def endpoints(ctx: dict, app) -> dict:
    token, base, ids = ctx["token"], ctx["base"], ctx["ids"]
    user_id = ids[len(ids) // 2]
    _status, body = call(app, environ("GET", f"{base}/Users/{user_id}", token))
    representation = json.loads(body)
    counter = {"n": 0}

    def whoami():
        return environ("GET", "/api/whoami", token, accept="application/json")

    def lookup():
        return environ(
            "GET",
            f"{base}/Users",
            token,
            query="filter=userName+eq+%22user00042%40example.com%22&startIndex=1&count=100",
        )

    def get_user():
        return environ("GET", f"{base}/Users/{user_id}", token)

    def put_user():
        counter["n"] += 1
        representation["name"]["familyName"] = f"Doe{counter['n']}"
        return environ("PUT", f"{base}/Users/{user_id}", token, json.dumps(representation).encode())

    def post_user():
        counter["n"] += 1
        i = 100000 + counter["n"]
        body = {
            "schemas": ["urn:ietf:params:scim:schemas:core:2.0:User"],
            "userName": f"new{i}@example.com",
            "name": {"givenName": "Jane", "familyName": f"Doe{i}"},
            "emails": [{"primary": True, "value": f"new{i}@example.com", "type": "work"}],
            "displayName": "Jane",
            "externalId": f"00x{i}",
            "active": True,
            "groups": [],
            "password": "x",
        }
        return environ("POST", f"{base}/Users", token, json.dumps(body).encode())

    return {"whoami": whoami, "lookup": lookup, "get": get_user, "put": put_user, "post": post_user}


def layer_of(filename: str) -> str:
    for layer, needles in LAYERS:
        if any(n in filename for n in needles):
            return layer
    return "other"


def breakdown(stats: pstats.Stats) -> dict[str, float]:
    """Self time of every function, summed per layer (seconds)."""
    per_layer: dict[str, float] = {}
    for (filename, _line, _name), (_cc, _nc, tottime, _ct, _callers) in stats.stats.items():  # type: ignore[attr-defined]
        layer = layer_of(filename)
        per_layer[layer] = per_layer.get(layer, 0.0) + tottime
    return per_layer


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--calls", type=int, default=2000, help="calls per endpoint (timing and profile)")
    parser.add_argument("--users", type=int, default=200)
    parser.add_argument("--dump", help="directory for one .prof file per endpoint")
    parser.add_argument("--only", nargs="*", help="endpoints to run (whoami lookup get put post)")
    args = parser.parse_args()
    call_command("migrate", verbosity=0)
    ctx = seed(args.users)
    app = get_wsgi_application()
    eps = endpoints(ctx, app)
    if args.only:
        eps = {k: v for k, v in eps.items() if k in args.only}
    for make in eps.values():  # warm up: SQL text built, statements prepared
        for _ in range(50):
            call(app, make())
    # Timing, interleaved rounds, no profiler.
    times: dict[str, list[float]] = {k: [] for k in eps}
    for _ in range(args.calls):
        for name, make in eps.items():
            env = make()
            t0 = time.perf_counter()
            status, body = call(app, env)
            times[name].append(time.perf_counter() - t0)
            if not status.startswith(("200", "201")):
                raise SystemExit(f"{name}: {status} {body[:300]!r}")
    medians = {k: statistics.median(v) * 1000 for k, v in times.items()}
    print(f"{'endpoint':10} {'median ms':>9}  ratio to whoami")
    for name, ms in medians.items():
        ratio = ms / medians["whoami"] if "whoami" in medians else float("nan")
        print(f"{name:10} {ms:9.3f}  {ratio:.2f}")
    print()
    for name, make in eps.items():
        profiler = cProfile.Profile()
        envs = [make() for _ in range(args.calls)]
        profiler.enable()
        for env in envs:
            call(app, env)
        profiler.disable()
        stats = pstats.Stats(profiler)
        if args.dump:
            Path(args.dump).mkdir(parents=True, exist_ok=True)
            stats.dump_stats(str(Path(args.dump) / f"{name}.prof"))
        layers = breakdown(stats)
        total = sum(layers.values())
        print(f"== {name}: {total / args.calls * 1000:.3f} ms per call under the profiler")
        for layer, seconds in sorted(layers.items(), key=lambda kv: -kv[1]):
            print(f"   {layer:28} {seconds / args.calls * 1000:7.3f} ms  {seconds / total:5.1%}")


if __name__ == "__main__":
    main()
