"""The Responses events failover writes: one response id and one ``sequence_number``
count per stream, whichever target answers.

For a target that speaks only chat, :class:`ChatEvents` writes the events from its
chunks in the spec's order: ``response.created``, ``response.in_progress``, then for
each item ``output_item.added``, ``content_part.added``, the deltas, the ``.done``
events and ``output_item.done`` (one item at a time, never overlapping), and
``response.completed`` (``response.incomplete`` for an answer cut at the token limit or
by a filter) carrying the whole response and its usage. A native target's events pass
through :meth:`ChatEvents.restamp`, which gives them the stream's id and numbers.

After content, a failure is never a silent end: :meth:`ChatEvents.failed` writes an
``error`` event, then ``response.failed`` with what had been said.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Mapping
from typing import Any

from .from_chat import call_item, finish, message_item, new_id, response_shell, usage_from_chat

__all__ = ["ChatEvents"]


# The events whose ``response`` is the whole response (its id is the stream's).
_CARRY_RESPONSE = frozenset(
    {
        "response.created",
        "response.in_progress",
        "response.queued",
        "response.completed",
        "response.incomplete",
        "response.failed",
    }
)


@functools.cache
def _event_type() -> Any:
    from openai.types.responses import ResponseStreamEvent
    from pydantic import TypeAdapter

    return TypeAdapter(ResponseStreamEvent)


class ChatEvents:
    """The Responses events of one stream (see the module's docstring)."""

    def __init__(self, request: Mapping[str, Any], follows: str | None = None) -> None:
        self._request = request
        self.id = new_id("resp")  # the caller sets failover's own once the target is known
        self.follows = follows  # the previous_response_id of failover's own, if any
        self.vendor_id: str | None = None  # a native target's own id for this response
        self.final: Any = None  # the whole response, once completed (or incomplete)
        self._opening: Any = None  # a native stream's first response (for a failure's)
        self._seq = 0
        self._shell: dict[str, Any] | None = None
        self._items: list[dict[str, Any]] = []  # output items, the last maybe open
        self._open: dict[str, Any] | None = None  # the open item
        self._part: dict[str, Any] | None = None  # its open content part
        self._calls: dict[int, dict[str, Any]] = {}  # chat tool-call index -> its item
        self._usage: Any = None
        self._finish: str | None = None

    # -- events -------------------------------------------------------------------------
    def _event(self, kind: str, **fields: Any) -> Any:
        data = {"type": kind, "sequence_number": self._seq, **fields}
        self._seq += 1
        return _event_type().validate_python(data)

    def restamp(self, event: Any) -> Any:
        """A native target's event, numbered in this stream and carrying its id.

        The fields are written into the models' ``__dict__``: pydantic's ``__setattr__``
        costs several microseconds, on every event of every stream.
        """
        fields = event.__dict__
        fields["sequence_number"] = self._seq
        self._seq += 1
        kind = fields["type"]
        if kind not in _CARRY_RESPONSE:
            return event  # most events: a getattr that misses costs a pydantic exception
        response = fields["response"]
        if kind in ("response.completed", "response.incomplete"):
            self.final = response
        if response is not None:
            self.vendor_id = self.vendor_id or response.id
            response.__dict__.update(id=self.id, previous_response_id=self.follows)
            self._opening = self._opening or response
        return event

    def started(self, model: str, created: float | None = None) -> list[Any]:
        """``response.created`` and ``response.in_progress``."""
        self._shell = shell = response_shell(self._request, model, created or time.time())
        shell["id"], shell["previous_response_id"] = self.id, self.follows
        return [
            self._event("response.created", response=dict(shell)),
            self._event("response.in_progress", response=dict(shell)),
        ]

    def chunk(self, chunk: Any) -> list[Any]:
        """The events a chat chunk makes."""
        out: list[Any] = []
        if chunk.usage is not None:
            self._usage = chunk.usage
        for choice in chunk.choices[:1]:
            delta = choice.delta
            if delta.content:
                out += self._text("output_text", delta.content)
            if delta.refusal:
                out += self._text("refusal", delta.refusal)
            for call in delta.tool_calls or ():
                out += self._call(call)
            if choice.finish_reason:
                self._finish = choice.finish_reason
        return out

    def completed(self) -> list[Any]:
        """Close what is open; ``response.completed`` (or ``response.incomplete``)."""
        out = self._close()
        response = finish(self._response(), self._finish)
        response["usage"] = usage_from_chat(self._usage)
        kind = "response.incomplete" if response["status"] == "incomplete" else "response.completed"
        done = self._event(kind, response=response)
        self.final = done.response
        return [*out, done]

    def failed(self, code: str, message: str, model: str) -> list[Any]:
        """An ``error`` event and ``response.failed``, with what was said before it
        (and the opening events, if the stream never had any)."""
        if self._shell is None and self._opening is not None:  # a native stream's
            self._shell = self._opening.model_dump(exclude={"output"})
        out = [] if self._shell is not None else self.started(model)
        response = {**self._response(), "status": "failed"}
        if self._open is not None:  # the item that was cut, with its part so far
            cut = {**self._open, "status": "incomplete"}
            if self._part is not None:
                cut["content"] = [*cut["content"], dict(self._part)]
            response["output"][-1] = cut
        error = self._event("error", code=code, message=message, param=None)
        response["error"] = {"code": "server_error", "message": message}
        return [*out, error, self._event("response.failed", response=response)]

    # -- items --------------------------------------------------------------------------
    def _response(self) -> dict[str, Any]:
        assert self._shell is not None, "started() comes first"
        return {**self._shell, "output": [dict(item) for item in self._items]}

    def _text(self, kind: str, text: str) -> list[Any]:
        out: list[Any] = []
        if self._open is None or self._open["type"] != "message":
            out += self._close()
            opened = message_item(None, None, "in_progress")
            opened["content"] = []
            out += self._add(opened)
        part = self._part
        if part is None or part["type"] != kind:
            out += self._close_part()
            part = (
                {"type": "output_text", "text": "", "annotations": [], "logprobs": []}
                if kind == "output_text"
                else {"type": "refusal", "refusal": ""}
            )
            self._part = part
            out.append(self._event("response.content_part.added", part=dict(part), **self._at()))
        field = "text" if kind == "output_text" else "refusal"
        part[field] += text
        extra: dict[str, Any] = {"logprobs": []} if kind == "output_text" else {}
        out.append(self._event(f"response.{kind}.delta", delta=text, **self._at(), **extra))
        return out

    def _call(self, call: Any) -> list[Any]:
        out: list[Any] = []
        item = self._calls.get(call.index)
        function = call.function
        if item is None:
            out += self._close()
            name = (function.name if function is not None else None) or ""
            item = call_item(call.id or new_id("call"), name, "", "in_progress")
            self._calls[call.index] = item
            out += self._add(item)
        arguments = function.arguments if function is not None else None
        if arguments:
            item["arguments"] += arguments
        if arguments and item is self._open:  # (a vendor that interleaves calls: no delta)
            index = self._items.index(item)
            out.append(
                self._event(
                    "response.function_call_arguments.delta",
                    item_id=item["id"],
                    output_index=index,
                    delta=arguments,
                )
            )
        return out

    def _add(self, item: dict[str, Any]) -> list[Any]:
        self._items.append(item)
        self._open = item
        index = len(self._items) - 1
        return [self._event("response.output_item.added", item=dict(item), output_index=index)]

    def _at(self) -> dict[str, Any]:
        assert self._open is not None
        return {
            "item_id": self._open["id"],
            "output_index": len(self._items) - 1,
            "content_index": len(self._open["content"]),
        }

    def _close_part(self) -> list[Any]:
        part = self._part
        if part is None:
            return []
        self._part = None
        if part["type"] == "output_text":
            done = self._event(
                "response.output_text.done", text=part["text"], logprobs=[], **self._at()
            )
        else:
            done = self._event("response.refusal.done", refusal=part["refusal"], **self._at())
        closed = self._event("response.content_part.done", part=dict(part), **self._at())
        assert self._open is not None
        self._open["content"].append(part)
        return [done, closed]

    def _close(self) -> list[Any]:
        item = self._open
        if item is None:
            return []
        out = self._close_part()
        index = self._items.index(item)
        if item["type"] == "function_call":
            out.append(
                self._event(
                    "response.function_call_arguments.done",
                    item_id=item["id"],
                    output_index=index,
                    name=item["name"],
                    arguments=item["arguments"],
                )
            )
        item["status"] = "completed"
        self._open = None
        out.append(self._event("response.output_item.done", item=dict(item), output_index=index))
        return out
