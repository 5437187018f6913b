"""Shared helpers: fast policies and targets pointing at failover.testing fakes."""

from __future__ import annotations

from collections.abc import Iterator

import pytest

from failover import Policy, Target
from failover.testing import FakeProvider

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
