"""The alternative a Django team would pick: django-scim2 (PyPI), in a minimal project generated at run time.

django-scim2 is installed into its own virtualenv (benchmarks/.venv-djscim2, gitignored), never into the project,
and the project below is written under benchmarks/data/ (gitignored): no third-party code is committed.

What the generated project adds to django-scim2, the least it needs to serve Okta: a User model with its SCIM
mixin, a Group model with its SCIM mixin and a members relation (django-scim2's adapters read `user_set` and
`scim_groups`), and bearer-token authentication that looks a token's SHA-256 up in one indexed query, as ours
does. Database settings are ours: persistent connections, health-checked before reuse, and (unless the benchmark runs
with --their-defaults) PostgreSQL prepared statements, which our production settings turn on; on SQLite
(`compare --sqlite`), our SQLite options (WAL, IMMEDIATE write transactions, a 20 s busy timeout).
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

from harness import BENCH, DATA, log

VENV = BENCH / ".venv-djscim2"
PYTHON = VENV / "bin" / "python"
PROJECT = DATA / "djscim2_project"
PACKAGES = ["django-scim2", "Django>=5.2,<5.3", "psycopg[binary]>=3.2", "dj-database-url>=2.2", "gunicorn>=23"]

FILES = {
    "manage.py": """
        import os, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_site.settings")
        from django.core.management import execute_from_command_line
        execute_from_command_line(sys.argv)
    """,
    "bench_site/__init__.py": "",
    "bench_site/settings.py": """
        import os
        import dj_database_url

        SECRET_KEY = "benchmark-only-not-a-secret"
        DEBUG = False
        ALLOWED_HOSTS = ["127.0.0.1", "localhost"]
        INSTALLED_APPS = ["django.contrib.contenttypes", "django.contrib.auth", "django_scim", "benchapp"]
        MIDDLEWARE = ["benchapp.middleware.BearerTokenMiddleware"]
        ROOT_URLCONF = "bench_site.urls"
        WSGI_APPLICATION = "bench_site.wsgi.application"
        DATABASES = {"default": dj_database_url.parse(
            os.environ["DATABASE_URL"], conn_max_age=600, conn_health_checks=True
        )}
        if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":  # SQLite: our options exactly
            DATABASES["default"]["OPTIONS"] = {
                "transaction_mode": "IMMEDIATE", "timeout": 20,
                "init_command": "PRAGMA journal_mode=WAL; PRAGMA synchronous=NORMAL; PRAGMA foreign_keys=ON;",
            }
        elif os.environ.get("PREPARE_THRESHOLD", "off") != "off":  # prepared statements, as our server has them
            DATABASES["default"]["OPTIONS"] = {
                "server_side_binding": True, "prepare_threshold": int(os.environ["PREPARE_THRESHOLD"])
            }
        AUTH_USER_MODEL = "benchapp.User"
        DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"
        USE_TZ = True
        SCIM_SERVICE_PROVIDER = {
            "NETLOC": "127.0.0.1",
            "SCHEME": "http",
            "GROUP_MODEL": "benchapp.models.ScimGroup",
            "AUTHENTICATION_SCHEMES": [
                {"type": "oauthbearertoken", "name": "OAuth Bearer Token", "description": "Bearer token"}
            ],
        }
        LOGGING = {"version": 1, "disable_existing_loggers": False, "root": {"level": "WARNING"}}
    """,
    "bench_site/urls.py": """
        from django.http import HttpResponse
        from django.urls import include, path

        urlpatterns = [
            path("healthz", lambda request: HttpResponse("ok")),
            path("scim/v2/", include("django_scim.urls", namespace="scim")),
        ]
    """,
    "bench_site/wsgi.py": """
        import os
        from django.core.wsgi import get_wsgi_application
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_site.settings")
        application = get_wsgi_application()
    """,
    "benchapp/__init__.py": "",
    "benchapp/models.py": """
        from django.contrib.auth.models import AbstractUser
        from django.db import models
        from django_scim.models import AbstractSCIMGroupMixin, AbstractSCIMUserMixin


        class ScimGroup(AbstractSCIMGroupMixin):
            name = models.CharField(max_length=254, unique=True)


        class User(AbstractSCIMUserMixin, AbstractUser):
            scim_group_set = models.ManyToManyField(ScimGroup, related_name="user_set", blank=True)

            @property
            def scim_groups(self):
                return self.scim_group_set


        class APIToken(models.Model):
            user = models.ForeignKey(User, on_delete=models.CASCADE)
            key_hash = models.CharField(max_length=64, unique=True)
    """,
    "benchapp/middleware.py": """
        import hashlib

        from django.contrib.auth.models import AnonymousUser

        from .models import APIToken


        class BearerTokenMiddleware:
            def __init__(self, get_response):
                self.get_response = get_response

            def __call__(self, request):
                request.user = AnonymousUser()
                header = request.META.get("HTTP_AUTHORIZATION", "")
                if header.startswith("Bearer "):
                    key_hash = hashlib.sha256(header[7:].encode()).hexdigest()
                    token = APIToken.objects.select_related("user").filter(key_hash=key_hash).first()
                    if token is not None and token.user.is_active:
                        request.user = token.user
                return self.get_response(request)
    """,
    "benchapp/migrations/__init__.py": "",
    "seed.py": """
        import hashlib, json, os, secrets, sys
        os.environ.setdefault("DJANGO_SETTINGS_MODULE", "bench_site.settings")
        import django
        django.setup()
        from django.db import connection, transaction
        from benchapp.models import APIToken, User

        users = int(sys.argv[1]) if len(sys.argv) > 1 else 0
        service = User.objects.create(username="scim-okta")
        token = "bench_" + secrets.token_urlsafe(32)
        APIToken.objects.create(user=service, key_hash=hashlib.sha256(token.encode()).hexdigest())
        for start in range(0, users, 2000):
            with transaction.atomic():
                rows = [
                    User(username=f"user{i:07d}@example.com", first_name="Jane", last_name=f"Doe{i}",
                         email=f"user{i:07d}@example.com", scim_username=f"user{i:07d}@example.com",
                         scim_external_id=f"00uuser{i:010d}")
                    for i in range(start, min(start + 2000, users))
                ]
                User.objects.bulk_create(rows)
        from django.db.models import CharField
        from django.db.models.functions import Cast
        User.objects.filter(scim_id__isnull=True).update(scim_id=Cast("id", CharField()))
        if connection.vendor == "postgresql" and users:  # an empty database stays never analysed, as ours
            with connection.cursor() as cursor:
                cursor.execute("VACUUM ANALYZE")
        print(json.dumps({"token": token}))
    """,
}


def ensure_installed() -> None:
    if not PYTHON.exists():
        log(f"creating {VENV.relative_to(BENCH.parent)} and installing django-scim2 from PyPI")
        subprocess.run([sys.executable, "-m", "venv", str(VENV)], check=True)
    check = subprocess.run([str(PYTHON), "-c", "import django_scim, gunicorn, psycopg, dj_database_url"])
    if check.returncode != 0:
        subprocess.run([str(PYTHON), "-m", "pip", "install", "--quiet", *PACKAGES], check=True)


def version() -> str:
    out = subprocess.run(
        [str(PYTHON), "-c", "import importlib.metadata as m; print(m.version('django-scim2'))"],
        capture_output=True,
        text=True,
        check=True,
    )
    return out.stdout.strip()


def generate() -> Path:
    for relative, text in FILES.items():
        path = PROJECT / relative
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(textwrap.dedent(text).lstrip())
    return PROJECT


def prepare(database_url: str, users: int) -> str:
    """Install, generate, migrate and seed; return the SCIM token."""
    ensure_installed()
    generate()
    env = {"DATABASE_URL": database_url, "PATH": "/usr/bin:/bin"}
    if not any((PROJECT / "benchapp" / "migrations").glob("0001_*.py")):
        subprocess.run(
            [str(PYTHON), "manage.py", "makemigrations", "benchapp", "-v0"], cwd=PROJECT, env=env, check=True
        )
    subprocess.run([str(PYTHON), "manage.py", "migrate", "-v0"], cwd=PROJECT, env=env, check=True)
    out = subprocess.run(
        [str(PYTHON), "seed.py", str(users)], cwd=PROJECT, env=env, check=True, capture_output=True, text=True
    )
    import json

    return json.loads(out.stdout.strip().splitlines()[-1])["token"]
