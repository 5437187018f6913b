"""Check that a Responses API stream keeps the spec's order (FACTS.md, Open Responses).

openai's stream helper enforces part of the order, by failing somewhere inside the SDK;
this checker names the first event that breaks a rule and also checks what the helper
does not: increasing sequence numbers, item lifecycles that never overlap, ``done``
events that repeat their deltas, and a final response that lists the finished items.
Tests hold the fake providers to it, and failover's own Responses streams.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any, NoReturn

__all__ = ["check_event_order"]

_STARTING = ("response.queued", "response.in_progress")
_TERMINAL = ("response.completed", "response.incomplete", "response.failed")


def check_event_order(events: Iterable[object], *, complete: bool = True) -> None:
    """Raise AssertionError naming the first event out of the spec's order.

    ``events`` are parsed stream events: dicts (the JSON of each ``data:`` line, without
    ``[DONE]``) or openai's event models. A stream must start with ``response.created``,
    number its events in increasing order, open and close one output item at a time, keep
    content inside its item and content part, and end with ``response.completed``,
    ``response.incomplete`` or ``response.failed`` (or an ``error`` event, after which only
    ``response.failed`` may come). ``complete=False`` checks a prefix: a stream that was
    cut need not have ended.
    """
    checker = _Checker()
    for position, event in enumerate(events):
        checker.feed(position, event)
    if complete:
        checker.finish()


def _get(value: object, name: str) -> Any:
    """A field of a JSON object or of an SDK model."""
    if isinstance(value, Mapping):
        return value.get(name)
    return getattr(value, name, None)


class _Checker:
    def __init__(self) -> None:
        self.count = 0
        self.where = "the stream"  # the event being checked, for messages
        self.seq: int | None = None
        self.items_began = False
        self.last_index = -1
        self.item: tuple[int, Any, Any] | None = None  # (output_index, id, type) while open
        self.part: int | None = None  # the open content part's content_index
        self.text = ""  # deltas of the open part
        self.arguments: str | None = None  # argument deltas of the open function call
        self.finished: list[tuple[Any, Any]] = []  # (type, id) of each item done
        self.ended: str | None = None
        self.errored = False

    def feed(self, position: int, event: object) -> None:
        kind = _get(event, "type")
        self.where = f"event {position} ({kind})"
        self.count += 1
        self._check_sequence(_get(event, "sequence_number"))
        if self.ended is not None:
            self._fail(f"comes after the stream ended with {self.ended}")
        if position == 0 and kind != "response.created":
            self._fail("is first; a stream must start with response.created")
        if self.errored and kind != "response.failed":
            self._fail("follows an error event; only response.failed may")
        if kind == "response.created":
            if position:
                self._fail("repeats response.created")
        elif kind in _STARTING:
            if self.items_began:
                self._fail("comes after output items began")
        elif kind == "error":
            self.errored = True
        elif kind in _TERMINAL:
            self._terminal(kind, event)
        elif kind == "response.output_item.added":
            self._open_item(event)
        elif kind == "response.output_item.done":
            self._close_item(event)
        elif kind == "response.content_part.added":
            self._open_part(event)
        elif kind == "response.content_part.done":
            self._close_part(event)
        else:
            self._content(kind, event)

    def finish(self) -> None:
        self.where = "the stream"
        if not self.count:
            self._fail("is empty")
        if self.ended is None and not self.errored:
            self._fail(f"ended without any of {', '.join(_TERMINAL)} (or an error event)")

    # -- rules ---------------------------------------------------------------------------

    def _check_sequence(self, seq: Any) -> None:
        if not isinstance(seq, int) or isinstance(seq, bool):
            self._fail(f"has no integer sequence_number (got {seq!r})")
        if self.seq is not None and seq <= self.seq:
            self._fail(f"has sequence_number {seq}, not above the previous {self.seq}")
        self.seq = seq

    def _open_item(self, event: object) -> None:
        index, item = _get(event, "output_index"), _get(event, "item")
        if self.item is not None:
            self._fail(
                f"opens output {index} while output {self.item[0]} is still open "
                "(item lifecycles must not overlap)"
            )
        if not isinstance(index, int) or index <= self.last_index:
            self._fail(f"has output_index {index!r}, not above the previous {self.last_index}")
        self.items_began = True
        self.last_index = index
        self.item = (index, _get(item, "id"), _get(item, "type"))
        self.arguments = None

    def _close_item(self, event: object) -> None:
        item = _get(event, "item")
        _, item_id, item_type = self._in_item(event, _get(item, "id"))
        if self.part is not None:
            self._fail(f"closes the item while content part {self.part} is still open")
        arguments = _get(item, "arguments")
        if self.arguments is not None and arguments != self.arguments:
            self._fail(f"has arguments {arguments!r}, not the deltas' {self.arguments!r}")
        self.finished.append((item_type, item_id))
        self.item = None

    def _open_part(self, event: object) -> None:
        self._in_item(event, _get(event, "item_id"))
        if self.part is not None:
            self._fail(f"opens a content part while part {self.part} is still open")
        self.part = _get(event, "content_index")
        self.text = ""

    def _close_part(self, event: object) -> None:
        self._in_part(event)
        text = _get(_get(event, "part"), "text")
        if isinstance(text, str) and text != self.text:
            self._fail(f"has text {text!r}, not the deltas' {self.text!r}")
        self.part = None

    def _content(self, kind: str, event: object) -> None:
        """Deltas and their done events, and anything else that names an output item."""
        if _get(event, "output_index") is None:
            return  # an event about the whole response, unknown to this checker
        self._in_item(event, _get(event, "item_id"))
        if kind.startswith("response.function_call_arguments."):
            arguments = _get(event, "arguments")
            if kind.endswith(".delta"):
                self.arguments = (self.arguments or "") + str(_get(event, "delta"))
            elif self.arguments is not None and arguments != self.arguments:
                self._fail(f"has arguments {arguments!r}, not the deltas' {self.arguments!r}")
            return
        if _get(event, "content_index") is None:
            return  # reasoning summaries and other per-item events
        self._in_part(event)
        if kind.endswith(".delta"):
            self.text += str(_get(event, "delta"))
        elif kind.endswith(".done"):
            text = _get(event, "text")
            if isinstance(text, str) and text != self.text:
                self._fail(f"has text {text!r}, not the deltas' {self.text!r}")

    def _terminal(self, kind: str, event: object) -> None:
        if kind == "response.completed" and self.item is not None:
            self._fail(f"completes the response while output {self.item[0]} is still open")
        self.ended = kind
        output = _get(_get(event, "response"), "output")
        if kind != "response.completed" or not isinstance(output, list):
            return
        listed = [(_get(item, "type"), _get(item, "id")) for item in output]
        if len(listed) != len(self.finished) or any(
            a[0] != b[0] or (a[1] is not None and b[1] is not None and a[1] != b[1])
            for a, b in zip(listed, self.finished, strict=False)
        ):
            self._fail(f"lists output {listed}, but the stream finished {self.finished}")

    def _in_item(self, event: object, item_id: Any) -> tuple[int, Any, Any]:
        """The open item, which ``event`` must name."""
        index = _get(event, "output_index")
        if self.item is None:
            self._fail(f"names output {index} outside any output_item.added/.done")
        if index != self.item[0]:
            self._fail(f"names output {index} while output {self.item[0]} is open")
        if item_id is not None and self.item[1] is not None and item_id != self.item[1]:
            self._fail(f"names item {item_id!r} while item {self.item[1]!r} is open")
        return self.item

    def _in_part(self, event: object) -> None:
        index = _get(event, "content_index")
        if self.part is None:
            self._fail(f"names content part {index} before its content_part.added")
        if index != self.part:
            self._fail(f"names content part {index} while part {self.part} is open")

    def _fail(self, problem: str) -> NoReturn:
        raise AssertionError(f"Responses stream out of order: {self.where} {problem}")
