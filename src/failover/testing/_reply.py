"""What a healthy fake provider answers: text, tool calls and a finish reason."""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

__all__ = ["DEFAULT_TEXT", "Reply", "ToolCall"]

DEFAULT_TEXT = "Hello from the fake provider."


@dataclass(frozen=True)
class ToolCall:
    """A tool call the fake model makes; ``id`` is generated per request when None."""

    name: str
    arguments: Mapping[str, Any] = field(default_factory=dict)
    id: str | None = None

    def arguments_json(self) -> str:
        """The arguments as the JSON text OpenAI streams (Anthropic streams the same text)."""
        return json.dumps(dict(self.arguments), separators=(", ", ": "))


@dataclass(frozen=True)
class Reply:
    """The scripted answer of the fake model.

    ``finish_reason`` None means "auto": ``tool_calls``/``tool_use`` when there are tool
    calls, else ``stop``/``end_turn``. Either vendor's name is accepted and translated
    (``stop``/``end_turn``, ``length``/``max_tokens``, ``tool_calls``/``tool_use``,
    ``content_filter``/``refusal``); other strings pass through verbatim.
    ``chunk_size`` is the number of text characters per streamed chunk; tool arguments
    are streamed in fragments of the same size.
    """

    text: str = DEFAULT_TEXT
    tool_calls: Sequence[ToolCall] = ()
    finish_reason: str | None = None
    chunk_size: int = 8

    def __post_init__(self) -> None:
        if self.chunk_size < 1:
            raise ValueError(f"chunk_size must be >= 1, got {self.chunk_size}")
        object.__setattr__(self, "tool_calls", tuple(self.tool_calls))

    @classmethod
    def of(cls, reply: Reply | str) -> Reply:
        """Accept a plain string wherever a Reply is expected."""
        return reply if isinstance(reply, Reply) else cls(text=reply)

    def text_chunks(self) -> list[str]:
        """The text as streamed, one string per chunk."""
        return split(self.text, self.chunk_size)

    def argument_chunks(self, call: ToolCall) -> list[str]:
        """A tool call's JSON arguments as streamed, in several fragments."""
        return split(call.arguments_json(), self.chunk_size)

    def chunk_count(self) -> int:
        """Streamed content chunks; also the reported completion/output token count."""
        args = sum(len(self.argument_chunks(call)) for call in self.tool_calls)
        return len(self.text_chunks()) + args


def split(text: str, size: int) -> list[str]:
    """Cut ``text`` into pieces of ``size`` characters (no pieces for empty text)."""
    return [text[i : i + size] for i in range(0, len(text), size)]
