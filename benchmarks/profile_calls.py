"""Where the time of a SCIM call goes, in-process: cProfile over the WSGI application, no HTTP server.

Run with the project's Python and a DATABASE_URL of a throw-away database (it is migrated and seeded):

    DATABASE_URL=postgres://…/realms_profile .venv/bin/python benchmarks/profile_calls.py [--calls 2000]

Each call goes through Django's WSGI handler exactly as gunicorn hands it a request (middleware, URL resolution,
DRF, the views, the database), one after the other on one connection. For each endpoint it prints the median
time per call (interleaved rounds) and the share of the time spent in each layer, from the profile: token
authentication, DRF's dispatch, URL/header checks, request parsing, SQL (the driver), rendering, the request log,
Django's middleware and handler. `--dump DIR` writes one .prof per endpoint (snakeviz, or `python -m pstats`).

cProfile inflates small Python functions (each call pays the profiler's hook); a sampling profiler does not.
`--spy DIR` runs each endpoint for `--seconds` under py-spy (`pip install py-spy`; root, or ptrace allowed) and
writes DIR/<endpoint>.svg (a flame graph) and DIR/<endpoint>.folded, then prints the wall time of a call split
into its stages (database round trips, token authentication, the SCIM layer's own Python, DRF, Django): the
table of docs/performance.md.
"""

from __future__ import annotations

import argparse
import cProfile
import io
import json
import os
import pstats
import shutil
import statistics
import subprocess
import sys
import time
import uuid
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
    ("token auth", ("realms/authentication.py", "realms/sql/token_query.py", "scim/authentication.py")),
    ("request log", ("scim/request_log.py",)),
    ("throttle", ("scim/throttling.py", "rest_framework/throttling.py", "django/core/cache/")),
    ("filter parse/compile", ("scim/filters/",)),
    ("patch/resources", ("scim/patch.py", "scim/resources.py", "scim/schemas/", "scim/selection.py")),
    ("services", ("realms/services/", "realms/sql/")),
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


def reuse() -> dict:
    """The realm seeded by a previous run, with a new token (the loop under py-spy)."""
    from realms.models import Realm, RealmUser
    from realms.services import scim_quickstart

    quick = scim_quickstart("Profile")
    realm = Realm.objects.get(pk=quick.realm.pk)
    ids = [str(pk) for pk in RealmUser.objects.filter(realm=realm).order_by("created_at").values_list("pk", flat=True)]
    return {"token": quick.token, "base": f"/api/realms/{realm.pk}/scim/v2", "ids": ids[:1000]}


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
        i = uuid.uuid4().hex[:12]  # new in every run
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


# The stages of a call, for py-spy's samples: each sample goes to the first stage one of whose markers appears in
# its stack (so a query run by token authentication counts as token authentication).
STAGES: list[tuple[str, tuple[str, ...]]] = [
    ("connection health check (SELECT 1)", ("close_if_health_check_failed",)),
    ("token authentication (query + Python)", ("authenticate_token", "check_token_format")),
    ("BEGIN and COMMIT", ("django/db/transaction.py", "_exec_command", "set_autocommit")),
    ("the call's own SQL (round trips)", ("realms/sql/", "psycopg/", "django/db/")),
    ("body parsing", ("rest_framework/request.py:_parse", "scim/negotiation.py:parse", "check_storable")),
    ("filter parsing", ("scim/filters/",)),
    ("body to UserData, diff", ("scim/resources.py", "scim/patch.py", "scim/schemas", "realms/services/")),
    ("rendering (representation, JSON)", ("scim/views/reads.py:represent", "renderers.py", "json/", "selection.py")),
    ("request log", ("scim/request_log.py", "scim/models.py:record_request")),
    ("URL, header and size checks", ("check_url_and_headers", "_check_body_size", "_has_body")),
    ("DRF dispatch (negotiation, permissions, throttle)", ("rest_framework/",)),
    ("URL resolution", ("django/urls/",)),
    ("Django handler and middleware", ("django/", "whitenoise/")),
]


def _frame_key(frame: str) -> str:
    """py-spy's 'function (path/file.py:line)' as 'path/file.py:function', path relative to site-packages or the
    repository."""
    if " (" not in frame:
        return frame
    function, where = frame.split(" (", 1)
    path = where.rstrip(")").rsplit(":", 1)[0].split("site-packages/")[-1]
    path = path.split(str(Path(__file__).resolve().parent.parent) + "/")[-1]
    return f"{path}:{function}"


def stages(folded: Path) -> dict[str, float]:
    """The share of a call's samples in each stage, from py-spy's raw (folded) output; setup samples left out."""
    counts: dict[str, int] = {}
    for line in folded.read_text().splitlines():
        stack, _, n = line.rpartition(" ")
        frames = [_frame_key(f) for f in stack.split(";")]
        if not any("django/core/handlers/wsgi.py" in f for f in frames):
            continue  # seeding, imports, the loop itself
        stage = next((name for name, marks in STAGES if any(m in f for f in frames for m in marks)), "other")
        counts[stage] = counts.get(stage, 0) + int(n)
    total = sum(counts.values()) or 1
    return {name: counts[name] / total for name, _ in [*STAGES, ("other", ())] if name in counts}


def spy(args: argparse.Namespace, names: list[str], medians: dict[str, float]) -> None:
    out = Path(args.spy)
    out.mkdir(parents=True, exist_ok=True)
    beside = Path(sys.executable).parent / "py-spy"  # installed in the virtualenv, or on PATH
    py_spy = str(beside) if beside.exists() else shutil.which("py-spy")
    if py_spy is None:
        raise SystemExit("py-spy is not installed: .venv/bin/pip install py-spy")
    for name in names:
        loop = [sys.executable, __file__, "--loop", name, "--seconds", str(args.seconds), "--users", "0"]
        for fmt, suffix in (("flamegraph", "svg"), ("raw", "folded")):
            target = out / f"{name}.{suffix}"
            rate = str(args.rate)
            command = [py_spy, "record", "--rate", rate, "--format", fmt, "--output", str(target), "--", *loop]
            subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        shares = stages(out / f"{name}.folded")
        print(f"== {name}: {medians[name]:.3f} ms per call (median, no profiler); wall time by stage (py-spy)")
        for stage, share in shares.items():
            print(f"   {stage:52} {share * medians[name]:6.3f} ms  {share:5.1%}")


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
    parser.add_argument("--spy", help="directory for py-spy's flame graphs and the wall time by stage")
    parser.add_argument("--seconds", type=float, default=20, help="with --spy: seconds of calls per endpoint")
    # 1,000 samples a second fell behind on a 2-core VM (py-spy then stalls the program it samples).
    parser.add_argument("--rate", type=int, default=200, help="with --spy: py-spy's samples per second")
    parser.add_argument("--loop", help=argparse.SUPPRESS)  # one endpoint, in a loop, for py-spy
    args = parser.parse_args()
    if not args.loop:
        call_command("migrate", verbosity=0)
    ctx = seed(args.users) if not args.loop else reuse()
    app = get_wsgi_application()
    eps = endpoints(ctx, app)
    if args.loop:
        make, stop = eps[args.loop], time.monotonic() + args.seconds
        while time.monotonic() < stop:
            call(app, make())
        return
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
    if args.spy:
        spy(args, list(eps), medians)
        return
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
