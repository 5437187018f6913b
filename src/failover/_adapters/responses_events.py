"""A native Responses stream seen as chat chunks, so that the chat streams' machinery
(first-token deadline, idle limit, hedging, the verdict on the target) drives it too
(``OpenAIAdapter.respond_stream``).

Each Responses event becomes an :class:`EventChunk`: a ``ChatCompletionChunk`` whose
delta says what the event means to that machinery (text, a refusal, a tool call's name
or arguments, the finish and usage) and which carries the event itself, to be handed
to the caller as it came. An ``error`` event or a ``response.failed`` is the vendor's
failure, raised as a fault, so that before the first content the call fails over.
"""

from __future__ import annotations

from typing import Any, Literal

from openai.types.chat import ChatCompletionChunk
from openai.types.chat.chat_completion_chunk import Choice, ChoiceDelta
from openai.types.completion_usage import CompletionUsage

from .._core.decisions import ErrorKind, Failure
from ._errors import ProviderFault

__all__ = ["EventChunk", "EventReader"]

Finish = Literal["stop", "length", "tool_calls", "content_filter"]

_KINDS = {
    "rate_limit_exceeded": ErrorKind.RATE_LIMIT,
    "insufficient_quota": ErrorKind.QUOTA,
    "context_length_exceeded": ErrorKind.CONTEXT_LENGTH,
    "content_filter": ErrorKind.CONTENT_FILTER,
    "invalid_prompt": ErrorKind.BAD_REQUEST,
}


class EventChunk(ChatCompletionChunk):
    """A chat chunk standing for one native Responses event (``event``)."""

    event: Any = None


class EventReader:
    """Reads one stream's events into chunks; keeps what later events need (the
    stream's id and model, whether it called tools)."""

    def __init__(self) -> None:
        self.id, self.model, self.created = "resp", "", 0
        self.calls = False

    def chunk(self, event: Any) -> EventChunk:
        kind = event.type
        delta: dict[str, Any] = {}
        finish: Finish | None = None
        usage: CompletionUsage | None = None
        if kind == "response.output_text.delta":
            delta["content"] = event.delta
        elif kind == "response.refusal.delta":
            delta["refusal"] = event.delta
        elif kind == "response.function_call_arguments.delta":
            delta["tool_calls"] = [_call(event.output_index, arguments=event.delta)]
        elif kind == "response.output_item.added" and event.item.type == "function_call":
            self.calls = True
            item = event.item
            delta["tool_calls"] = [_call(event.output_index, item.call_id, item.name)]
        elif kind in ("response.created", "response.in_progress"):
            response = event.response
            self.id, self.model, self.created = response.id, response.model, response.created_at
        elif kind in ("response.completed", "response.incomplete"):
            response = event.response
            finish = _finish(response, self.calls)
            usage = _usage(response.usage)
        elif kind in ("error", "response.failed"):
            raise ProviderFault(_failure(event))
        choices = [Choice(index=0, delta=ChoiceDelta(**delta), finish_reason=finish)]
        return EventChunk(
            id=self.id,
            object="chat.completion.chunk",
            created=int(self.created),
            model=self.model,
            choices=choices if delta or finish else [],
            usage=usage,
            event=event,
        )


def _call(index: int, call_id: str | None = None, name: str | None = None, **fn: Any) -> Any:
    function = {"name": name, **fn} if name else fn
    return {"index": index, "id": call_id, "type": "function", "function": function}


def _finish(response: Any, calls: bool) -> Finish:
    details = response.incomplete_details
    if response.status == "incomplete":
        reason = details.reason if details is not None else None
        return "content_filter" if reason == "content_filter" else "length"
    return "tool_calls" if calls else "stop"


def _usage(usage: Any) -> CompletionUsage | None:
    if usage is None:
        return None
    return CompletionUsage(
        prompt_tokens=usage.input_tokens,
        completion_tokens=usage.output_tokens,
        total_tokens=usage.total_tokens,
    )


def _failure(event: Any) -> Failure:
    """The failure an ``error`` event (flat, or Open Responses' nested ``error``) or a
    ``response.failed`` reports."""
    found = getattr(event, "response", None)
    detail: Any = found.error if found is not None else getattr(event, "error", None) or event
    if isinstance(detail, dict):
        code, message = detail.get("code"), detail.get("message")
    else:
        code, message = getattr(detail, "code", None), getattr(detail, "message", None)
    kind = _KINDS.get(str(code), ErrorKind.SERVER_ERROR)
    said = f"{event.type} in the stream: {code or 'no code'}: {message or 'no message'}"
    return Failure(kind=kind, message=said[:200], code=str(code) if code else None)
