"""Shared helpers: fast policies and targets pointing at failover.testing fakes."""

from __future__ import annotations

import os
import time
import uuid
from collections.abc import Callable, Iterator

import anthropic  # noqa: F401  (imported once, here: see below)
import openai  # noqa: F401
import pytest

from failover import Failover, Policy, Target
from failover.testing import FakeProvider

# The vendor SDKs are imported before any test runs: a client's construction imports its
# SDK on first use, and anthropic's import alone takes over a second here, which a test
# timing a fresh client would otherwise pay once, whichever test came first.

# Millisecond backoff keeps the suite fast without patching sleep.
FAST = Policy(
    max_retries=2,
    backoff_base=0.001,
    backoff_max=0.005,
    timeout=10.0,
    attempt_timeout=2.0,
    connect_timeout=1.0,
    breaker_fail_max=3,
    breaker_reset=0.3,
    first_token_timeout=2.0,
    stream_idle_timeout=2.0,
)
SECRET = "sk-test-SECRETKEY-0123456789abcdef"
MESSAGES = [{"role": "user", "content": "Say hello"}]


def target(fake: FakeProvider, name: str = "", model: str = "model-x") -> Target:
    """A target for ``fake`` whose provider label is ``name`` (default: its api)."""
    return Target(name or fake.api, model, api=fake.api, base_url=fake.base_url, api_key=SECRET)


@pytest.fixture
def primary() -> Iterator[FakeProvider]:
    with FakeProvider("openai", reply="primary answer", name="primary") as fake:
        yield fake


@pytest.fixture
def secondary() -> Iterator[FakeProvider]:
    with FakeProvider("anthropic", reply="secondary answer", name="secondary") as fake:
        yield fake


@pytest.fixture(params=["sync", "async"])
def mode(request: pytest.FixtureRequest) -> str:
    return str(request.param)


REDIS_URL = "redis://127.0.0.1:6379/0"


def redis_available(url: str = REDIS_URL) -> bool:
    import redis

    try:
        return bool(redis.Redis.from_url(url, socket_connect_timeout=0.5).ping())
    except (redis.RedisError, OSError):
        return False


@pytest.fixture(scope="session")
def redis_url() -> str:
    """The machine's Redis; tests that need it skip without it, or fail under CI's
    FAILOVER_TEST_REQUIRE_REDIS=1."""
    if not redis_available():
        message = f"no Redis at {REDIS_URL} (start one: see the README's 'Running a fleet')"
        if os.environ.get("FAILOVER_TEST_REQUIRE_REDIS") == "1":
            pytest.fail(message + "; FAILOVER_TEST_REQUIRE_REDIS=1 requires it")
        pytest.skip(message)
    return REDIS_URL


@pytest.fixture
def redis_prefix() -> str:
    """A key prefix of this test's own, so that tests never see each other's state."""
    return f"failover-test-{uuid.uuid4().hex[:10]}"


def eventually(check: Callable[[], bool], within: float = 2.0) -> float:
    """Seconds until ``check()`` held (fails the test after ``within``)."""
    started = time.monotonic()
    while not check():
        assert time.monotonic() - started < within, "never happened"
        time.sleep(0.002)
    return time.monotonic() - started


class Calls:
    """Calls made through clients while something breaks: the failures and the slowest."""

    def __init__(self) -> None:
        self.failures, self.slowest = 0, 0.0

    def __call__(self, client: Failover) -> None:
        started = time.monotonic()
        try:
            client.chat.completions.create(messages=MESSAGES)
        except Exception:
            self.failures += 1
        self.slowest = max(self.slowest, time.monotonic() - started)

    def each(self, *clients: Failover) -> None:
        """One call through each client."""
        for client in clients:
            self(client)
