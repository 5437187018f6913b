"""OpenAI's Responses API on the wire: ``POST /v1/responses``, JSON or SSE, in two flavours.

``"openai"`` is OpenAI's own server; ``"open"`` is Open Responses, the open specification of
the same API. They differ only in how a stream ends and fails (FACTS.md): Open Responses
ends every stream with ``data: [DONE]`` and reports an error mid-stream as an ``error``
event with a nested ``error`` object followed by ``response.failed``; OpenAI sends no
``[DONE]`` and its ``error`` event is flat (``code``, ``message``, ``param``).

A stream is semantic events, each named in ``event:`` and numbered by ``sequence_number``
from 0: ``response.created``, ``response.in_progress``, then one closed lifecycle per
output item (a message: ``output_item.added``, ``content_part.added``, text deltas, their
``done`` events; a function call: ``output_item.added``, argument deltas, their ``done``),
then ``response.completed`` with the whole response. A response cut short by length or a
content filter ends with ``response.incomplete`` instead, as OpenAI sends it. Text and
argument deltas are the "content" events that faults count; the final event is the tail.
"""

from __future__ import annotations

import dataclasses
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal, get_args

from ._faults import Fault
from ._reply import Reply
from ._wire import Call, ErrorAnswer, Event, EventRole, count_words, dumps, finish_reason
from ._wire_openai import OpenAIWire, tool_call_id

__all__ = ["Flavour", "ResponsesWire"]

Flavour = Literal["openai", "open"]

# finish reason (OpenAI's names) -> the incomplete_details.reason the Responses API gives
_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}

Item = dict[str, Any]


@dataclass(frozen=True)
class _Burst(Event):
    """Several SSE events sent as one step, so that a fault places them together (Open
    Responses' error, ``response.failed`` and ``[DONE]``)."""

    more: tuple[Event, ...] = ()

    def encode(self) -> bytes:
        return super().encode() + b"".join(event.encode() for event in self.more)


class _Numbered:
    """Builds a stream's events, numbering them in order."""

    def __init__(self) -> None:
        self.events: list[Event] = []

    def add(self, kind: str, role: EventRole = "frame", **fields: Any) -> None:
        data = {"type": kind, "sequence_number": len(self.events), **fields}
        self.events.append(Event(dumps(data), name=kind, role=role))


class ResponsesWire(OpenAIWire):
    """Renders replies as Responses API answers; errors and faults as OpenAI's chat does."""

    path = "/v1/responses"
    paths: tuple[str, ...] = (path,)  # every route it answers (Azure has two)
    required = ("model", "input")

    def __init__(self, flavour: Flavour = "openai") -> None:
        if flavour not in get_args(Flavour):
            raise ValueError(f"flavour must be 'openai' or 'open', got {flavour!r}")
        self.flavour = flavour

    def call(self, seq: int, path: str, body: Any) -> Call:
        call = Call.from_body(seq, body)
        words = count_words(call.body.get("input")) + count_words(call.body.get("instructions"))
        return dataclasses.replace(call, prompt_tokens=words)

    def error(self, fault: Fault, call: Call) -> ErrorAnswer:
        answer = super().error(fault, call)
        detail = answer.body.get("error") if isinstance(answer.body, dict) else None
        if isinstance(detail, dict) and detail.get("param") == "messages":
            detail["param"] = "input"  # the prompt of a Responses request is its input
        return answer

    def error_event(self, error: ErrorAnswer, call: Call, sent: int) -> Event:
        seq = sent  # its sequence_number continues the events sent before it
        detail: Mapping[str, Any] = {}
        if isinstance(error.body, Mapping) and isinstance(error.body.get("error"), Mapping):
            detail = error.body["error"]
        kind, code, param = detail.get("type"), detail.get("code"), detail.get("param")
        message = detail.get("message") or "An error occurred while streaming the response."
        if self.flavour == "openai":
            # The flat event has no type: the code says what went wrong, else the type.
            flat = {"type": "error", "code": code or kind, "message": message, "param": param}
            return Event(dumps({**flat, "sequence_number": seq}), name="error", role="error")
        nested = {"type": kind or "server_error", "code": code, "message": message, "param": param}
        failed = _response(
            call, "failed", [], None, error={"code": code or "server_error", "message": message}
        )
        failure = {"type": "response.failed", "sequence_number": seq + 1, "response": failed}
        return _Burst(
            dumps({"type": "error", "error": nested, "sequence_number": seq}),
            name="error",
            role="error",
            more=(Event(dumps(failure), name="response.failed", role="error"), *self._done()),
        )

    # -- non-streaming -------------------------------------------------------------

    def message(self, call: Call, reply: Reply, *, finished: bool = True) -> dict[str, Any]:
        status, details = _status(reply, finished)
        output = [item for item, _ in _items(call, reply, status)]
        usage = _usage(call, reply.chunk_count())
        return _response(call, status, output, usage, incomplete=details)

    def empty_message(self, call: Call) -> dict[str, Any]:
        return _response(call, "completed", [], _usage(call, 0))

    # -- streaming -------------------------------------------------------------------

    def events(self, call: Call, reply: Reply) -> list[Event]:
        status, details = _status(reply, True)
        items = _items(call, reply, status)
        out = _opening(call)
        for index, (item, chunks) in enumerate(items):
            if item["type"] == "message":
                _message_events(out, index, item, chunks)
            else:
                _function_call_events(out, index, item, chunks)
        final = _response(
            call, status, [item for item, _ in items], _usage(call, reply.chunk_count()), details
        )
        ending = "response.completed" if status == "completed" else "response.incomplete"
        out.add(ending, "tail", response=final)
        return out.events + self._done()

    def empty_events(self, call: Call) -> list[Event]:
        out = _opening(call)
        out.add(
            "response.completed", "tail", response=_response(call, "completed", [], _usage(call, 0))
        )
        return out.events + self._done()

    def _done(self) -> list[Event]:
        return [Event("[DONE]", role="tail")] if self.flavour == "open" else []


def _status(reply: Reply, finished: bool) -> tuple[str, dict[str, str] | None]:
    """The response status and incomplete_details; an unfinished answer has no reason."""
    if not finished:
        return "incomplete", None
    reason = _INCOMPLETE.get(finish_reason(reply, api="openai"))
    return ("incomplete", {"reason": reason}) if reason else ("completed", None)


def _items(call: Call, reply: Reply, status: str) -> list[tuple[Item, list[str]]]:
    """Each finished output item with the chunks it streams in: the text as a message
    (also when there is nothing else), then one function_call per tool call. In an
    incomplete response the last item is incomplete, as the spec requires."""
    items: list[tuple[Item, list[str]]] = []
    if reply.text or not reply.tool_calls:
        message = {
            "id": f"msg_fake{call.seq:06d}",
            "type": "message",
            "status": "completed",
            "role": "assistant",
            "content": [_text_part(reply.text)],
        }
        items.append((message, reply.text_chunks()))
    for index, tool_call in enumerate(reply.tool_calls):
        function_call = {
            "id": f"fc_fake{call.seq:06d}_{index}",
            "type": "function_call",
            "status": "completed",
            "arguments": tool_call.arguments_json(),
            "call_id": tool_call_id(call, index, tool_call),
            "name": tool_call.name,
        }
        items.append((function_call, reply.argument_chunks(tool_call)))
    if status == "incomplete" and items:
        items[-1][0]["status"] = "incomplete"
    return items


def _text_part(text: str) -> dict[str, Any]:
    return {"type": "output_text", "text": text, "annotations": [], "logprobs": []}


def _opening(call: Call) -> _Numbered:
    out = _Numbered()
    started = _response(call, "in_progress", [], None)
    out.add("response.created", response=started)
    out.add("response.in_progress", response=started)
    return out


def _message_events(out: _Numbered, index: int, item: Item, chunks: list[str]) -> None:
    text = item["content"][0]["text"]
    where = {"item_id": item["id"], "output_index": index, "content_index": 0}
    added = {**item, "status": "in_progress", "content": []}
    out.add("response.output_item.added", output_index=index, item=added)
    out.add("response.content_part.added", **where, part=_text_part(""))
    for piece in chunks:
        out.add("response.output_text.delta", "content", **where, delta=piece, logprobs=[])
    out.add("response.output_text.done", **where, text=text, logprobs=[])
    out.add("response.content_part.done", **where, part=_text_part(text))
    out.add("response.output_item.done", output_index=index, item=item)


def _function_call_events(out: _Numbered, index: int, item: Item, chunks: list[str]) -> None:
    where = {"item_id": item["id"], "output_index": index}
    added = {**item, "status": "in_progress", "arguments": ""}
    out.add("response.output_item.added", output_index=index, item=added)
    for piece in chunks:
        out.add("response.function_call_arguments.delta", "content", **where, delta=piece)
    out.add("response.function_call_arguments.done", **where, arguments=item["arguments"])
    out.add("response.output_item.done", output_index=index, item=item)


def _usage(call: Call, output_tokens: int) -> dict[str, Any]:
    # openai 3.57's ResponseUsage model requires cache_write_tokens beside cached_tokens.
    return {
        "input_tokens": call.prompt_tokens,
        "input_tokens_details": {"cached_tokens": 0, "cache_write_tokens": 0},
        "output_tokens": output_tokens,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": call.prompt_tokens + output_tokens,
    }


def _response(
    call: Call,
    status: str,
    output: list[Item],
    usage: dict[str, Any] | None,
    incomplete: dict[str, str] | None = None,
    *,
    error: dict[str, Any] | None = None,
) -> dict[str, Any]:
    """A Response object; the request's settings are echoed back, as the API does."""
    body = call.body
    return {
        "id": f"resp_fake{call.seq:06d}",
        "object": "response",
        "created_at": int(time.time()),
        "status": status,
        "background": False,
        "error": error,
        "incomplete_details": incomplete,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": call.model,
        "output": output,
        "parallel_tool_calls": body.get("parallel_tool_calls", True),
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": body.get("reasoning") or {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": body.get("temperature", 1.0),
        "text": body.get("text") or {"format": {"type": "text"}},
        "tool_choice": body.get("tool_choice", "auto"),
        "tools": body.get("tools", []),
        "top_p": body.get("top_p", 1.0),
        "truncation": body.get("truncation", "disabled"),
        "usage": usage,
        "user": body.get("user"),
        "metadata": body.get("metadata") or {},
    }
