"""Rate limiting per token: 429 with an integer Retry-After (Okta waits that long), configurable per deployment."""

import subprocess
import time

import pytest
from django.core.cache import cache

from scim.throttling import TokenRateThrottle

from ..scim.conftest import SCIMClient, assert_scim_error, scim_token
from ..system_programs import free_ports, require_program


@pytest.fixture(autouse=True)
def _fresh_cache():
    cache.clear()
    yield
    cache.clear()


class Clock:
    """The throttle's clock, frozen 30 s into a minute: counts are per window of the period, and a test that ran
    across the end of a minute would see the count start again."""

    def __init__(self) -> None:
        self.now = 1_800_000_030.0  # a multiple of 60, plus 30 s

    def __call__(self) -> float:
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch) -> Clock:
    clock = Clock()
    monkeypatch.setattr(TokenRateThrottle, "timer", staticmethod(clock))
    return clock


def test_over_the_limit_is_429_with_retry_after(scim, settings):
    settings.SCIM = {"RATE_LIMIT": "3/minute"}
    for _ in range(3):
        assert scim.get("/Users").status_code == 200
    response = scim.get("/Users")
    body = assert_scim_error(response, 429)
    assert response["Retry-After"].isdigit() and 1 <= int(response["Retry-After"]) <= 60
    assert response["Retry-After"] in body["detail"]


def test_the_limit_is_per_token(client, scim, realm, settings):
    settings.SCIM = {"RATE_LIMIT": "2/minute"}
    scim.get("/Users")
    scim.get("/Users")
    assert scim.get("/Users").status_code == 429
    other = SCIMClient(client, realm, scim_token())
    assert other.get("/Users").status_code == 200


def test_the_count_starts_again_with_the_next_window(scim, settings, clock):
    settings.SCIM = {"RATE_LIMIT": "2/minute"}
    assert [scim.get("/Users").status_code for _ in range(3)] == [200, 200, 429]
    clock.now += 29
    response = scim.get("/Users")
    assert response.status_code == 429 and response["Retry-After"] == "1"  # the minute ends in 1 s
    clock.now += 1
    assert [scim.get("/Users").status_code for _ in range(3)] == [200, 200, 429]
    assert scim.get("/Users")["Retry-After"] == "60"


def test_refused_calls_do_not_extend_the_wait(scim, settings, clock):
    """Okta retries after Retry-After: the calls it makes while refused never push the end of the window."""
    settings.SCIM = {"RATE_LIMIT": "1/hour"}
    assert scim.get("/Users").status_code == 200
    for _ in range(5):
        assert scim.get("/Users")["Retry-After"] == str(3600 - 1_800_000_030 % 3600)
    clock.now += 3600 - 1_800_000_030 % 3600
    assert scim.get("/Users").status_code == 200


def test_rate_limiting_can_be_turned_off(scim, settings):
    settings.SCIM = {"RATE_LIMIT": None}
    assert all(scim.get("/ServiceProviderConfig").status_code == 200 for _ in range(30))


@pytest.fixture(scope="module")
def redis_url(tmp_path_factory):
    """A redis-server of the tests' own (Debian package redis-server), on 127.0.0.1, persisting nothing."""
    program = require_program("redis-server", "redis-server", "tests of the Redis cache (CACHE_URL=redis://…)")
    import redis

    port = free_ports()[0]
    directory = tmp_path_factory.mktemp("redis")
    process = subprocess.Popen(
        [program, "--bind", "127.0.0.1", "--port", str(port), "--save", "", "--appendonly", "no"],
        cwd=directory,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"redis://127.0.0.1:{port}/0"
    try:
        for _ in range(100):
            try:
                redis.Redis.from_url(url).ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        process.terminate()
        process.wait(timeout=10)


def test_counts_live_in_redis_with_cache_url(scim, settings, redis_url):
    """With Django's Redis cache (what CACHE_URL configures), every worker and app server reads the same count."""
    import redis

    settings.CACHES = {"default": {"BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url}}
    settings.SCIM = {"RATE_LIMIT": "3/minute"}
    store = redis.Redis.from_url(redis_url)
    store.flushdb()
    for _ in range(3):
        assert scim.get("/Users").status_code == 200
    assert store.keys("*scim-throttle*")  # the count is in Redis, not in this process
    assert_scim_error(scim.get("/Users"), 429)
    store.flushdb()  # another process's view: what Redis holds is the whole count
    assert scim.get("/Users").status_code == 200
