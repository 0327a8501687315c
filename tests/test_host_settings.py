"""The reference host's settings from the environment: the cache that holds the rate-limit counts, and the limit."""

from __future__ import annotations

import runpy
from pathlib import Path

import pytest
from django.core.exceptions import ImproperlyConfigured

SETTINGS_FILE = Path(__file__).resolve().parents[1] / "console" / "settings.py"


@pytest.fixture
def host_settings(monkeypatch, tmp_path):
    """console/settings.py evaluated afresh with the given environment (Django's own settings stay untouched)."""

    def load(**env: str) -> dict:
        for name in ("CACHE", "CACHE_URL", "CACHE_KEY_PREFIX", "CACHE_SOCKET_TIMEOUT", "SCIM_RATE_LIMIT"):
            monkeypatch.delenv(name, raising=False)
        monkeypatch.setenv("SECRET_KEY", "x" * 50)
        monkeypatch.setenv("VAR_DIR", str(tmp_path))
        for name, value in env.items():
            monkeypatch.setenv(name, value)
        return runpy.run_path(str(SETTINGS_FILE))

    return load


def test_the_default_cache_is_per_process_memory(host_settings):
    assert host_settings()["CACHES"]["default"]["BACKEND"] == "django.core.cache.backends.locmem.LocMemCache"


def test_cache_database_shares_the_counts_through_the_database(host_settings):
    cache = host_settings(CACHE="database")["CACHES"]["default"]
    assert cache == {"BACKEND": "django.core.cache.backends.db.DatabaseCache", "LOCATION": "realms_cache"}


def test_cache_url_is_djangos_redis_cache_with_short_timeouts(host_settings):
    cache = host_settings(CACHE_URL="redis://cache.internal:6379/2")["CACHES"]["default"]
    assert cache["BACKEND"] == "django.core.cache.backends.redis.RedisCache"
    assert cache["LOCATION"] == "redis://cache.internal:6379/2"
    assert cache["KEY_PREFIX"] == "realms"
    assert cache["OPTIONS"] == {"socket_connect_timeout": 1.0, "socket_timeout": 1.0}
    cache = host_settings(CACHE_URL="rediss://:secret@cache:6380/0", CACHE="redis", CACHE_KEY_PREFIX="eu")["CACHES"]
    assert cache["default"]["KEY_PREFIX"] == "eu"


@pytest.mark.parametrize(
    ("env", "message"),
    [
        ({"CACHE": "redis"}, "CACHE must be memory or database"),
        ({"CACHE": "databse"}, "not 'databse'"),
        ({"CACHE_URL": "memcached://cache:11211"}, "redis://, rediss:// or unix://"),
        ({"CACHE_URL": "redis://cache:6379/0", "CACHE": "database"}, "unset CACHE=database"),
    ],
)
def test_a_wrong_cache_setting_stops_the_start(host_settings, env, message):
    with pytest.raises(ImproperlyConfigured, match=message):
        host_settings(**env)


def test_scim_rate_limit_from_the_environment(host_settings):
    assert "RATE_LIMIT" not in host_settings()["SCIM"]  # the app's default (docs/configuration.md)
    assert host_settings(SCIM_RATE_LIMIT="600/minute")["SCIM"] == {"RATE_LIMIT": "600/minute"}
    assert host_settings(SCIM_RATE_LIMIT="off")["SCIM"] == {"RATE_LIMIT": None}
