"""What a stream has delivered, and how a resumed answer is stitched onto it.

:class:`Tally` records what the caller has received (for :class:`StreamInterrupted`, for
telemetry, and to de-duplicate a continuation); :func:`params_for` asks the next target
to continue the delivered text.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from openai.types.chat import ChatCompletionChunk

from .._adapters.chunks import is_content_chunk
from .._config.policy import CLAUDE_APIS, Target

__all__ = ["CONTINUE_INSTRUCTION", "Tally", "params_for", "preamble"]

CONTINUE_INSTRUCTION = (
    "Continue your previous answer exactly where it stopped. Do not repeat any of it "
    "and do not add any preamble."
)


def params_for(target: Target, params: dict[str, Any], partial: str) -> dict[str, Any]:
    """The request for ``target``; after an interruption, asks it to continue ``partial``."""
    if not partial:
        return params
    messages = list(params["messages"])
    if target.api in CLAUDE_APIS:
        # Anthropic continues a trailing assistant message (a prefill), which must not
        # end in whitespace; _Tally drops the space the continuation then repeats.
        messages.append({"role": "assistant", "content": partial.rstrip()})
    else:
        # OpenAI-compatible servers do not continue a trailing assistant message.
        messages += [
            {"role": "assistant", "content": partial},
            {"role": "user", "content": CONTINUE_INSTRUCTION},
        ]
    return {**params, "messages": messages}


@dataclass
class Tally:
    """What the caller has received so far, and the de-duplication of a resumed answer.

    It runs on every chunk, so the common case (text, no resume) costs two attribute
    reads and a list append; the text is joined only when a failure needs it.
    """

    parts: list[str] = field(default_factory=list)
    tool_calls: dict[int, dict[str, Any]] = field(default_factory=dict)
    usage: Any = None
    finish_reason: str | None = None
    stream_id: str | None = None
    model: str | None = None
    # While resuming: continuation text held back until we know it does not restart.
    held: str | None = None

    @property
    def text(self) -> str:
        if len(self.parts) > 1:
            self.parts[:] = ["".join(self.parts)]
        return self.parts[0] if self.parts else ""

    def admit(self, chunk: ChatCompletionChunk) -> ChatCompletionChunk | None:
        """Record ``chunk`` and return what the caller should see (None: nothing)."""
        if self.stream_id is None:
            self.stream_id, self.model = chunk.id, chunk.model
        elif chunk.id != self.stream_id:
            chunk = chunk.model_copy(update={"id": self.stream_id})
        if chunk.usage is not None:
            self.usage = chunk.usage
        for choice in chunk.choices:
            if choice.finish_reason:
                self.finish_reason = choice.finish_reason
            delta = choice.delta
            if delta.tool_calls:
                self._add_tool_calls(delta.tool_calls)
            content = delta.content
            if content and self.held is not None:
                shown = self._dedupe(content)
                if shown is None and not (choice.finish_reason or chunk.usage):
                    return None
                chunk = chunk.model_copy(deep=True)
                chunk.choices[0].delta.content = content = shown
            if content:
                self.parts.append(content)
        return chunk

    def _add_tool_calls(self, calls: Any) -> None:
        for call in calls:
            entry = self.tool_calls.setdefault(
                call.index, {"index": call.index, "id": None, "name": "", "arguments": ""}
            )
            entry["id"] = call.id or entry["id"]
            if call.function is not None:
                entry["name"] += call.function.name or ""
                entry["arguments"] += call.function.arguments or ""

    def _dedupe(self, text: str) -> str | None:
        """Hold back a continuation's text until it is clear what is new in it.

        A continuing model sometimes starts over (drop what was delivered), and after an
        Anthropic prefill, which cannot end in whitespace, it repeats the space the
        delivered text ends with (drop that space).
        """
        assert self.held is not None
        self.held += text
        if self.text.startswith(self.held):
            return None  # so far only a repeat of what was delivered
        restarted = self.held.startswith(self.text)
        shown = self.held[len(self.text) :] if restarted else self.held
        if not restarted and self.text[-1:].isspace():
            shown = shown.lstrip()
        self.held = None
        return shown or None


def preamble(chunk: ChatCompletionChunk) -> bool:
    """A chunk with nothing in it but a role: no content, finish reason or usage."""
    finished = any(c.finish_reason for c in chunk.choices)
    return not chunk.usage and not finished and not is_content_chunk(chunk)
