"""Shared by the tests of groups and headroom: a policy and three fake deployments."""

from __future__ import annotations

import dataclasses
from collections.abc import Iterator
from contextlib import ExitStack

import pytest

from failover.testing import FakeProvider

from .conftest import FAST

# No retry in place, breakers that do not open by accident, and repeatable draws.
ONE_TRY = dataclasses.replace(
    FAST, max_retries=0, breaker_fail_max=1000, breaker_failure_ratio=0.0, balance_seed=7
)


@pytest.fixture
def fakes() -> Iterator[tuple[FakeProvider, FakeProvider, FakeProvider]]:
    with ExitStack() as stack:
        made = [stack.enter_context(FakeProvider("openai", reply=n, name=n)) for n in "abc"]
        yield made[0], made[1], made[2]
