"""Fixtures for the fake-provider tests: the (vendor x sync/async x JSON/stream) matrix."""

from __future__ import annotations

import logging
from collections.abc import Iterator

import pytest

from failover.testing import FakeProvider

from ._sdk import Api, Caller, Flavor


@pytest.fixture(params=["openai", "anthropic"])
def api(request: pytest.FixtureRequest) -> Api:
    value: Api = request.param
    return value


@pytest.fixture(params=["sync", "async"])
def flavor(request: pytest.FixtureRequest) -> Flavor:
    value: Flavor = request.param
    return value


@pytest.fixture(params=[False, True], ids=["json", "stream"])
def stream(request: pytest.FixtureRequest) -> bool:
    return bool(request.param)


@pytest.fixture
def fake(api: Api) -> Iterator[FakeProvider]:
    with FakeProvider(api) as provider:
        yield provider


@pytest.fixture
def caller(api: Api, flavor: Flavor, stream: bool, fake: FakeProvider) -> Caller:
    """Calls ``fake`` through every combination of SDK, sync/async and JSON/stream."""
    return Caller(api, flavor, stream, fake.base_url)


class _Collect(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.WARNING)
        self.records: list[logging.LogRecord] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.records.append(record)


@pytest.fixture(autouse=True)
def server_logs_nothing() -> Iterator[None]:
    """Every fault is deliberate: uvicorn must never log an error or a warning about it."""
    handler = _Collect()
    logger = logging.getLogger("uvicorn.error")
    logger.addHandler(handler)
    try:
        yield
    finally:
        logger.removeHandler(handler)
    assert not handler.records, [r.getMessage() for r in handler.records]
