"""pytest fixtures for fake providers (registered as the ``failover`` pytest11 plugin).

pytest loads this module for everyone who installs failover, with or without the
``testing`` extra, so it imports nothing heavy at module level: starlette and uvicorn
are imported inside the fixtures, when a test actually asks for a fake.
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from typing import TYPE_CHECKING, Any, Literal

import pytest

if TYPE_CHECKING:
    from failover.testing import FakeProvider

__all__ = ["fake_anthropic", "fake_openai", "fake_provider_factory"]


@pytest.fixture
def fake_openai() -> Iterator[FakeProvider]:
    """A started fake OpenAI API; ``fake_openai.base_url`` goes to ``openai.OpenAI``."""
    from failover.testing import FakeProvider

    with FakeProvider("openai") as fake:
        yield fake


@pytest.fixture
def fake_anthropic() -> Iterator[FakeProvider]:
    """A started fake Anthropic API; ``fake_anthropic.base_url`` goes to ``anthropic.Anthropic``."""
    from failover.testing import FakeProvider

    with FakeProvider("anthropic") as fake:
        yield fake


@pytest.fixture
def fake_provider_factory() -> Iterator[Callable[..., FakeProvider]]:
    """Start more fakes: ``make(api, **kwargs)``; all are stopped after the test."""
    from failover.testing import FakeProvider

    started: list[FakeProvider] = []

    def make(
        api: Literal["openai", "anthropic", "azure", "bedrock", "vertex"] = "openai",
        **kwargs: Any,
    ) -> FakeProvider:
        fake = FakeProvider(api, **kwargs).start()
        started.append(fake)
        return fake

    try:
        yield make
    finally:
        for fake in started:
            fake.stop()
