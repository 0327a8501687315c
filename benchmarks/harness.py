"""What every benchmark needs: its own PostgreSQL, gunicorn, an HTTP client, timing and memory readings.

Nothing here is imported by the project: the benchmarks drive the real server over HTTP, the way Okta does.
Only the standard library is used, so the same client measures our server and django-scim2.
"""

from __future__ import annotations

import contextlib
import http.client
import json
import os
import shutil
import signal
import statistics
import subprocess
import sys
import threading
import time
import urllib.parse
from collections.abc import Callable, Iterable, Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
BENCH = ROOT / "benchmarks"
DATA = BENCH / "data"
RESULTS = BENCH / "results"  # the figures of docs/performance.md (run.py and report.py --results: another directory)
PROJECT_PYTHON = ROOT / ".venv" / "bin" / "python"


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


def progress(done: int, total: int, label: str, started: float) -> None:
    """A one-line progress bar on stderr (seeding 100,000 users takes a while)."""
    width = 30
    filled = int(width * done / total) if total else width
    rate = done / max(time.monotonic() - started, 1e-6)
    end = "\n" if done >= total else ""
    bar = "#" * filled + "." * (width - filled)
    print(f"\r  {label:<18} [{bar}] {done:>7}/{total} {rate:>8.0f}/s", end=end, file=sys.stderr, flush=True)


# ---------------------------------------------------------------------------------------------- PostgreSQL


def _pg_bin() -> Path:
    candidates = sorted(Path("/usr/lib/postgresql").glob("*/bin"), key=lambda p: int(p.parent.name))
    if not candidates:
        raise SystemExit("PostgreSQL is not installed (apt-get install postgresql)")
    return candidates[-1]


class Postgres:
    """A throw-away PostgreSQL server of the benchmark's own, in benchmarks/data/pg-<port> or in `datadir` (a
    directory the postgres user can reach when run as root: its parent is not made so).

    Durability is relaxed (fsync off) so that the numbers measure the application, not the disk of a shared VM;
    both servers under comparison run against the same instance.
    """

    def __init__(self, port: int, datadir: Path | None = None) -> None:
        self.port = port
        self.datadir = datadir or DATA / f"pg-{port}"
        self.bin = _pg_bin()
        self.as_root = os.geteuid() == 0

    def _run(self, *args: str, **kwargs: Any) -> subprocess.CompletedProcess:
        cmd = list(args)
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        return subprocess.run(cmd, check=True, **kwargs)

    def start(self) -> Postgres:
        DATA.mkdir(parents=True, exist_ok=True)
        if self.as_root:
            subprocess.run(["id", "postgres"], check=True, capture_output=True)
        if not (self.datadir / "PG_VERSION").exists():
            shutil.rmtree(self.datadir, ignore_errors=True)
            self.datadir.mkdir(parents=True)
            if self.as_root:
                shutil.chown(self.datadir, "postgres")
                if self.datadir.parent == DATA:
                    os.chmod(DATA, 0o755)
            log(f"initdb {self.datadir}")
            self._run(
                str(self.bin / "initdb"), "-D", str(self.datadir), "-U", "postgres", "--auth=trust",
                "--encoding=UTF8", "--locale=C.UTF-8", capture_output=True,
            )  # fmt: skip
        options = (
            f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1 -c max_connections=100 -c fsync=off "
            "-c full_page_writes=off -c synchronous_commit=off -c shared_buffers=256MB"
        )
        status = subprocess.run(
            (["runuser", "-u", "postgres", "--"] if self.as_root else [])
            + [str(self.bin / "pg_ctl"), "-D", str(self.datadir), "status"],
            capture_output=True,
        )
        if status.returncode != 0:
            log(f"starting PostgreSQL on port {self.port}")
            self._run(
                str(self.bin / "pg_ctl"), "-D", str(self.datadir), "-l", str(self.datadir / "server.log"), "-w",
                "-o", options, "start", capture_output=True,
            )  # fmt: skip
        return self

    def psql(self, sql: str, db: str = "postgres") -> str:
        out = self._run(
            str(self.bin / "psql"), "-h", "/tmp", "-p", str(self.port), "-U", "postgres", "-tAc", sql, db,
            capture_output=True, text=True,
        )  # fmt: skip
        return out.stdout.strip()

    def fresh_database(self, name: str) -> str:
        self.psql(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        self.psql(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def has_database(self, name: str) -> bool:
        return self.psql(f"SELECT 1 FROM pg_database WHERE datname = '{name}'") == "1"

    def url(self, name: str) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/{name}"

    def stop(self) -> None:
        with contextlib.suppress(subprocess.CalledProcessError):
            self._run(str(self.bin / "pg_ctl"), "-D", str(self.datadir), "stop", "-m", "fast", capture_output=True)

    def pids(self) -> list[int]:
        """The postmaster and its children (backends, walwriter…): the CPU PostgreSQL spends, whoever asked."""
        master = int((self.datadir / "postmaster.pid").read_text().split()[0])
        with contextlib.suppress(OSError):
            return [master, *(int(p) for p in Path(f"/proc/{master}/task/{master}/children").read_text().split())]
        return [master]


_TICKS = os.sysconf("SC_CLK_TCK")


def cpu_seconds(pids: Iterable[int]) -> dict[int, float]:
    """User + system CPU time of each of these processes so far (/proc/<pid>/stat; a process gone is left out)."""
    seconds = {}
    for pid in pids:
        with contextlib.suppress(OSError, IndexError, ValueError):
            fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
            seconds[pid] = (int(fields[11]) + int(fields[12])) / _TICKS
    return seconds


def cpu_spent(before: dict[int, float], after: dict[int, float]) -> float:
    """CPU seconds spent between two `cpu_seconds` readings by the processes alive at the second one. A process
    that ended in between is left out rather than counted as a loss: a PostgreSQL backend still exiting at the
    first reading (the `ANALYZE` between two phases) made PostgreSQL's share of the next phase negative."""
    return sum(cpu - before.get(pid, 0.0) for pid, cpu in after.items())


class CPUMeter:
    """CPU spent per request during a phase by the server's workers, PostgreSQL and this load generator.

    Throughput on a shared 2-core machine is set by the sum of the three: the server's share is what the server
    under test decides; PostgreSQL's and the client's are paid by both servers under comparison."""

    def __init__(self, server: Gunicorn, pg: Postgres) -> None:
        self.server, self.pg = server, pg

    def _snapshot(self) -> tuple[dict[int, float], dict[int, float], float]:
        return cpu_seconds(self.server.worker_pids()), cpu_seconds(self.pg.pids()), time.process_time()

    def start(self) -> None:
        self._before = self._snapshot()

    def per_request(self, requests: int) -> dict[str, float]:
        """CPU milliseconds per request since `start()`, by who spent them."""
        (server_0, pg_0, client_0), (server_1, pg_1, client_1) = self._before, self._snapshot()
        per = [
            x * 1000 / max(requests, 1)
            for x in (cpu_spent(server_0, server_1), cpu_spent(pg_0, pg_1), client_1 - client_0)
        ]
        return {"server": round(per[0], 3), "postgresql": round(per[1], 3), "client": round(per[2], 3)}


# ---------------------------------------------------------------------------------------------- gunicorn


def project_env(database_url: str, **extra: str) -> dict[str, str]:
    """The environment of our app in production shape: PostgreSQL, DEBUG off, persistent connections."""
    env = {
        k: v
        for k, v in os.environ.items()
        if k in {"PATH", "HOME", "LANG", "LC_ALL", "TMPDIR", "PYTHONPATH"} or k.startswith("PYTHON")
    }
    env.update(
        DATABASE_URL=database_url,
        DEBUG="0",
        HTTPS="0",
        SECRET_KEY="benchmark-only-not-a-secret-" + "x" * 40,
        ALLOWED_HOSTS="127.0.0.1,localhost",
        CONN_MAX_AGE="600",
        LOG_LEVEL="WARNING",
        VAR_DIR=str(DATA / "var"),
        DJANGO_SETTINGS_MODULE="bench_settings",
        PYTHONPATH=str(BENCH),
    )
    env.update(extra)
    return env


class Gunicorn:
    """gunicorn with the repository's gunicorn.conf.py (or another app's settings), access log off."""

    def __init__(
        self,
        *,
        python: Path,
        cwd: Path,
        port: int,
        workers: int,
        env: dict[str, str],
        config: Path | None = ROOT / "gunicorn.conf.py",
        wsgi_app: str | None = None,
        health_path: str = "/healthz",
    ) -> None:
        self.python, self.cwd, self.port, self.workers = python, cwd, port, workers
        self.env = dict(env, WEB_CONCURRENCY=str(workers), GUNICORN_BIND=f"127.0.0.1:{port}", GUNICORN_ACCESSLOG="")
        self.config, self.wsgi_app, self.health_path = config, wsgi_app, health_path
        self.process: subprocess.Popen | None = None

    def start(self) -> Gunicorn:
        cmd = [str(self.python), "-m", "gunicorn"]
        if self.config is not None:
            cmd += ["-c", str(self.config)]
        else:
            cmd += ["--bind", f"127.0.0.1:{self.port}", "--workers", str(self.workers), "--preload"]
        cmd += ["--log-level", "warning"]
        if self.wsgi_app:
            cmd.append(self.wsgi_app)
        DATA.mkdir(parents=True, exist_ok=True)
        self.log_file = open(DATA / f"gunicorn-{self.port}.log", "ab")  # noqa: SIM115 (closed in stop)
        self.process = subprocess.Popen(cmd, cwd=self.cwd, env=self.env, stdout=self.log_file, stderr=self.log_file)
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"gunicorn exited; see {self.log_file.name}")
            with contextlib.suppress(OSError):
                conn = http.client.HTTPConnection("127.0.0.1", self.port, timeout=2)
                conn.request("GET", self.health_path)
                if conn.getresponse().status < 500 and len(self.worker_pids()) == self.workers:
                    return self
            time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in 60 s")

    def worker_pids(self) -> list[int]:
        assert self.process is not None
        children = Path(f"/proc/{self.process.pid}/task/{self.process.pid}/children")
        with contextlib.suppress(OSError):
            return [int(p) for p in children.read_text().split()]
        return []

    def peak_rss_mib(self) -> list[float]:
        """Peak resident memory (VmHWM) of each worker, in MiB."""
        peaks = []
        for pid in self.worker_pids():
            with contextlib.suppress(OSError):
                for line in Path(f"/proc/{pid}/status").read_text().splitlines():
                    if line.startswith("VmHWM:"):
                        peaks.append(int(line.split()[1]) / 1024)
        return peaks

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        with contextlib.suppress(Exception):
            self.log_file.close()

    def __enter__(self) -> Gunicorn:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()


# ---------------------------------------------------------------------------------------------- HTTP client


class HTTPError(Exception):
    pass


class Client:
    """One keep-alive HTTP/1.1 connection speaking SCIM with a bearer token (one per client thread)."""

    def __init__(self, base_url: str, token: str, accept: str = "application/scim+json") -> None:
        parsed = urllib.parse.urlsplit(base_url)
        self.host, self.port, self.prefix = parsed.hostname or "127.0.0.1", parsed.port or 80, parsed.path
        self.headers = {
            "Authorization": f"Bearer {token}",
            "Accept": accept,
            "Content-Type": "application/scim+json; charset=utf-8",
        }
        self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)

    def call(self, method: str, path: str, body: Any = None, expect: Iterable[int] = (200,)) -> Any:
        url = path if path.startswith("/") and not self.prefix else self.prefix + path
        data = json.dumps(body).encode() if body is not None else None
        for attempt in range(2):
            try:
                self.conn.request(method, url, body=data, headers=self.headers)
                response = self.conn.getresponse()
                payload = response.read()
                break
            except (http.client.RemoteDisconnected, ConnectionResetError, BrokenPipeError):
                self.conn.close()
                self.conn = http.client.HTTPConnection(self.host, self.port, timeout=120)
                if attempt:
                    raise
        if response.status not in expect:
            raise HTTPError(f"{method} {url} -> {response.status}: {payload[:300]!r}")
        return json.loads(payload) if payload else None


def quote_filter(text: str) -> str:
    return urllib.parse.quote(text, safe="")


# ---------------------------------------------------------------------------------------------- timing


@dataclass
class PhaseResult:
    name: str
    requests: int
    seconds: float
    latencies_ms: list[float] = field(default_factory=list, repr=False)

    @property
    def rps(self) -> float:
        return self.requests / self.seconds if self.seconds else 0.0

    @property
    def median_ms(self) -> float:
        return statistics.median(self.latencies_ms) if self.latencies_ms else 0.0

    @property
    def p95_ms(self) -> float:
        if len(self.latencies_ms) < 2:
            return self.median_ms
        return statistics.quantiles(self.latencies_ms, n=20)[-1]

    def as_dict(self) -> dict[str, Any]:
        return {
            "name": self.name,
            "requests": self.requests,
            "seconds": round(self.seconds, 3),
            "rps": round(self.rps, 1),
            "median_ms": round(self.median_ms, 2),
            "p95_ms": round(self.p95_ms, 2),
        }


def run_concurrently(
    name: str,
    jobs: list[Any],
    work: Callable[[Client, Any], int],
    make_client: Callable[[], Client],
    concurrency: int,
) -> PhaseResult:
    """Run `work(client, job)` over the jobs with `concurrency` threads; work returns the requests it made."""
    lock = threading.Lock()
    pending: Iterator[Any] = iter(jobs)
    latencies: list[float] = []
    count = [0]
    errors: list[BaseException] = []

    def worker() -> None:
        client = make_client()
        while True:
            with lock:
                job = next(pending, None)
            if job is None or errors:
                return
            started = time.perf_counter()
            try:
                made = work(client, job)
            except BaseException as exc:
                errors.append(exc)
                return
            elapsed = (time.perf_counter() - started) * 1000
            with lock:
                count[0] += made
                latencies.append(elapsed / max(made, 1))

    threads = [threading.Thread(target=worker) for _ in range(concurrency)]
    started = time.perf_counter()
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    seconds = time.perf_counter() - started
    if errors:
        raise errors[0]
    return PhaseResult(name, count[0], seconds, latencies)


def median_latency(call: Callable[[], Any], repeat: int, warmup: int = 5) -> list[float]:  # pragma: no cover - trivial
    for _ in range(warmup):
        call()
    samples = []
    for _ in range(repeat):
        started = time.perf_counter()
        call()
        samples.append((time.perf_counter() - started) * 1000)
    return samples


def machine() -> dict[str, Any]:
    """What the numbers were measured on (recorded with every result)."""
    cpu = ""
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    load = os.getloadavg() if hasattr(os, "getloadavg") else (0, 0, 0)
    mem = ""
    with contextlib.suppress(OSError):
        mem = Path("/proc/meminfo").read_text().splitlines()[0].split(":", 1)[1].strip()
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory": mem,
        "python": sys.version.split()[0],
        "postgresql": _pg_bin().parent.name,
        "load_average_at_start": [round(x, 2) for x in load],
        "date": time.strftime("%Y-%m-%d %H:%M:%S %Z"),
    }


def write_result(name: str, result: dict[str, Any], directory: Path = RESULTS) -> Path:
    path = directory / f"{name}.json"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(result, indent=2) + "\n")
    log(f"wrote {path.relative_to(ROOT) if path.is_relative_to(ROOT) else path}")
    return path
