"""A fake's request quota, through the real SDKs: the vendor's headers, then a 429."""

from __future__ import annotations

import time
from datetime import datetime
from typing import Any

import anthropic
import openai
import pytest

from failover.testing import FakeProvider

PROMPT: Any = [{"role": "user", "content": "Hi"}]  # both SDKs take this shape


def test_an_openai_fake_counts_down_then_refuses_until_the_window_resets() -> None:
    with FakeProvider("openai") as fake:
        fake.set_quota(2, per=0.5)
        client = openai.OpenAI(base_url=fake.base_url, api_key="k", max_retries=0)
        said = []
        for _ in range(2):
            raw = client.chat.completions.with_raw_response.create(model="m", messages=PROMPT)
            said.append(raw.headers["x-ratelimit-remaining-requests"])
            assert raw.headers["x-ratelimit-limit-requests"] == "2"
            assert raw.headers["x-ratelimit-reset-requests"].endswith("ms")
        assert said == ["1", "0"]
        with pytest.raises(openai.RateLimitError) as refused:
            client.chat.completions.create(model="m", messages=PROMPT)
        assert 0 < float(refused.value.response.headers["retry-after"]) <= 0.5
        assert refused.value.response.headers["x-ratelimit-remaining-requests"] == "0"
        time.sleep(0.55)  # the window's reset
        assert client.chat.completions.create(model="m", messages=PROMPT).choices
        faults = [r.fault.kind if r.fault else None for r in fake.requests]
        assert faults == [None, None, "rate_limit", None]


def test_an_anthropic_fake_says_its_reset_as_a_time() -> None:
    with FakeProvider("anthropic") as fake:
        fake.set_quota(1, per=30.0)
        client = anthropic.Anthropic(base_url=fake.base_url, api_key="k", max_retries=0)
        raw = client.messages.with_raw_response.create(model="m", max_tokens=8, messages=PROMPT)
        assert raw.headers["anthropic-ratelimit-requests-remaining"] == "0"
        reset = datetime.fromisoformat(raw.headers["anthropic-ratelimit-requests-reset"])
        # The window's reset, rounded up to the next millisecond (never early).
        assert 25 < reset.timestamp() - time.time() <= 30.01
        with pytest.raises(anthropic.RateLimitError):
            client.messages.create(model="m", max_tokens=8, messages=PROMPT)
        fake.set_quota(None)
        assert client.messages.create(model="m", max_tokens=8, messages=PROMPT).content
