"""Helpers shared by the tests of the OpenAI <-> Anthropic conversions."""

from __future__ import annotations

from typing import Any

from anthropic.types import Message, RawMessageStreamEvent
from pydantic import TypeAdapter

from failover._adapters._anthropic_convert import to_anthropic_request

EVENTS: TypeAdapter[RawMessageStreamEvent] = TypeAdapter(RawMessageStreamEvent)
USER = {"role": "user", "content": "hi"}
PNG = "data:image/png;base64,iVBORw0KGgo="


def convert(**params: Any) -> dict[str, Any]:
    params.setdefault("messages", [USER])
    return to_anthropic_request(params, model="claude-x")


def ev(data: dict[str, Any]) -> RawMessageStreamEvent:
    return EVENTS.validate_python(data)


def message(content: list[dict[str, Any]], stop: str | None = "end_turn", **usage: int) -> Message:
    return Message.model_validate(
        {
            "id": "msg_1",
            "type": "message",
            "role": "assistant",
            "model": "claude-x",
            "content": content,
            "stop_reason": stop,
            "stop_sequence": None,
            "usage": {"input_tokens": 10, "output_tokens": 5, **usage},
        }
    )
