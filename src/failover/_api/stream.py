"""Streams that fail over honestly.

Before the first content (text or a tool-call delta) a stream is just another
attempt: errors, in-band errors, content-less endings and a missed first-token
deadline are retried and failed over like any call. Once content has reached the
caller the stream is committed: any later failure raises :class:`StreamInterrupted`
(with what was received), or, with resume on, the next target continues the text.
"""

from __future__ import annotations

import functools
import itertools
import time
from collections.abc import AsyncGenerator, Generator
from dataclasses import dataclass
from typing import Any, Generic, TypeVar

from openai.types.chat import ChatCompletionChunk

from .._adapters import Adapter
from .._adapters._errors import ProviderFault
from .._adapters.chunks import is_content_chunk
from .._config.policy import Target
from .._core.attempts import Attempt, Outcome
from .._core.deadline import bounded
from .._core.decisions import ErrorKind, Failure
from .._core.errors import FailoverError, StreamInterrupted
from .._health.breaker import Admission
from .._routing.call import Call
from .._routing.drive import run_sync
from .._routing.router import Router
from .._telemetry import otel as telemetry
from .tally import Tally, params_for, preamble

__all__ = ["ChatStream"]

ChunkIter = TypeVar(
    "ChunkIter",
    Generator[ChatCompletionChunk, None, None],
    AsyncGenerator[ChatCompletionChunk, None],
)


Chunks = Generator[ChatCompletionChunk, None, None]


@dataclass
class Opened(Generic[ChunkIter]):
    """A stream that produced its first content (or ended cleanly with none)."""

    chunks: list[ChatCompletionChunk]
    rest: ChunkIter


# A stream may end without content when the answer is deliberately empty: a refusal,
# a token limit reached before any text, or a turn that only calls tools.
_EMPTY_ANSWER_REASONS = frozenset({"content_filter", "length", "tool_calls"})


def no_content(chunks: list[ChatCompletionChunk]) -> ProviderFault | None:
    """The fault of a stream that ended before any content, or None if that was its answer."""
    reasons = {c.finish_reason for chunk in chunks for c in chunk.choices if c.finish_reason}
    if reasons & _EMPTY_ANSWER_REASONS:
        return None
    return ProviderFault(
        Failure(kind=ErrorKind.MALFORMED, message="stream ended before any content")
    )


def first_token_missed(window: float) -> ProviderFault:
    return ProviderFault(
        Failure(kind=ErrorKind.TIMEOUT, message=f"no first token within {window:.1f} s")
    )


class StreamBase:
    """The decisions shared by the sync and async streams."""

    resumable = True  # a broken stream may continue on the next target (stream_resume)

    def __init__(self, router: Router, call: Call, timeout: float | None = None) -> None:
        self._router = router
        self._call = call
        self._timeout = timeout  # the caller's per-call deadline, also for a resumed call
        self._started = call.started  # a resumed stream is still one call
        self._observed = False
        self._tally = Tally()
        self.target: Target | None = None

    @property
    def attempts(self) -> tuple[Attempt, ...]:
        """The attempt log so far (complete once the stream has ended)."""
        return tuple(self._call.attempts)

    @property
    def degraded(self) -> bool:
        """True when the static last resort answers, not a model."""
        return self.target is not None and self.target.degraded

    def _visible(self, chunk: ChatCompletionChunk, resumed: bool) -> ChatCompletionChunk | None:
        if resumed and preamble(chunk):
            return None  # the continuation's role-only opening chunk
        return self._tally.admit(chunk)

    def _finished(self, error: BaseException | None) -> bool:
        """Settle the target's verdict at the end of its stream; True if the answer is whole.

        A failure after commit is logged and counted, then raises unless we may resume.
        """
        assert self.target is not None
        target, health = self.target, self._router.health[self.target.key]
        admission = self._call.take_admission(target) or Admission(True)  # given once
        if self._tally.finish_reason is not None:
            # The answer is whole; a connection lost before [DONE] costs only the usage.
            health.record_success(admission)
            self._router.answering.answered(target, self._call)
            self._observe()
            return True
        found = self._router.adapter(target).failure(error) if error is not None else None
        if error is not None and found is None:
            health.release(admission)
            raise error
        failure = found or Failure(kind=ErrorKind.MALFORMED, message="ended with no terminator")
        what = failure.kind or failure.transport or failure.code or ""
        self._call.log(
            Attempt(
                target.label,
                Outcome.FAILED,
                error=ErrorKind.STREAM_CUT,
                status=failure.status,
                detail=f"after {len(self._tally.text)} chars: {what} {failure.message[:120]}",
            )
        )
        self._call.judge(target, admission, ErrorKind.STREAM_CUT, failure)
        if self._tally.tool_calls:
            self._raise(
                f"stream from {target.label} broke; a partial tool call cannot be resumed", error
            )
        if not (self.resumable and self._router.policy.stream_resume):
            self._raise(f"stream from {target.label} broke after content: {failure.message}", error)
        return False

    def _abandoned(self, *, observe: bool = True) -> None:
        """The caller stopped reading (or dropped the stream): no verdict on the target,
        but a half-open probe slot must be freed or the target would be skipped for good."""
        if self.target is not None:
            admission = self._call.take_admission(self.target)
            if admission is not None:
                self._router.health[self.target.key].release(admission)
        if observe:
            self._observe(outcome="abandoned")

    def __del__(self) -> None:
        # No telemetry from a finalizer: it may run while this thread holds an exporter's lock.
        self._abandoned(observe=False)

    def _raise(self, message: str, cause: BaseException | None) -> None:
        error = StreamInterrupted(
            message,
            attempts=self._call.attempts,
            partial_text=self._tally.text,
            partial_tool_calls=[dict(v) for _, v in sorted(self._tally.tool_calls.items())],
            usage=self._tally.usage,
        )
        self._observe(error=error)
        raise error from cause

    def _observe(self, *, error: BaseException | None = None, outcome: str = "") -> None:
        """Hand the finished stream to telemetry, once (``_telemetry/otel.py``)."""
        if self._observed:
            return
        self._observed = True
        answer = None
        if error is None and not outcome:
            usage, reason = self._tally.usage, self._tally.finish_reason
            answer = telemetry.Answered(
                self._tally.model,
                usage.prompt_tokens if usage is not None else None,
                usage.completion_tokens if usage is not None else None,
                (reason,) if reason else (),
            )
        chain = self._router.groups
        attempts = self._call.attempts
        telemetry.observe(
            self._started, attempts, chain, stream=True, answer=answer, error=error, outcome=outcome
        )

    def _resume_call(self) -> Call:
        call = Call(
            self._router,
            self._timeout,
            request=self._call.request,
            guard=self._call.guard,
            defer_verdict=True,
        )
        call.attempts = self._call.attempts  # one log for the whole stream
        self._call = call
        self._tally.held = ""
        return call

    def _switched(self, target: Target) -> None:
        self.target = target
        self._call.log(
            Attempt(
                target.label,
                Outcome.RESUMED,
                detail=f"continued after {len(self._tally.text)} chars",
            )
        )


class ChatStream(StreamBase):
    """A blocking stream of ``ChatCompletionChunk``; iterate it, close it when done.

    >>> with client.chat.completions.create(messages=msgs, stream=True) as stream:
    ...     for chunk in stream:
    ...         print(chunk.choices[0].delta.content or "", end="")
    """

    def __init__(self, router: Router, call: Call, timeout: float | None = None) -> None:
        super().__init__(router, call, timeout)
        # The losing opening's admission is the first call's: a loser may land after the
        # stream has resumed under a new Call, so it is not looked up on self._call.
        lost = functools.partial(self._lost, call)
        try:
            opened, self.target = run_sync(call, self._opener(call, ""), on_lost_sync=lost)
        except BaseException as exc:
            self._observe(error=exc)
            raise
        self._gen = self._run(opened)

    def _lost(
        self,
        call: Call,
        opened: Opened[Generator[ChatCompletionChunk, None, None]],
        target: Target,
    ) -> None:
        """A hedged opening that answered too but lost: close it, give no verdict."""
        opened.rest.close()
        admission = call.take_admission(target)
        if admission is not None:
            self._router.health[target.key].release(admission)

    def _opener(self, call: Call, partial: str) -> Any:
        policy = self._router.policy

        def open_one(
            target: Target, adapter: Adapter, params: dict[str, Any]
        ) -> Opened[Generator[ChatCompletionChunk, None, None]]:
            window = call.attempt_seconds(cap=policy.first_token_timeout)
            limit = time.monotonic() + window
            # Until the first token, every read is capped by the window's wall clock, so
            # neither slow headers, nor keep-alive bytes, nor a line sent a byte at a time
            # can stretch it. Once committed, the read timeout is the idle limit.
            timeout = call.http_timeout(policy.stream_idle_timeout)
            buffered: list[ChatCompletionChunk] = []
            events = self._source(target, adapter, params_for(target, params, partial), timeout)
            try:
                with bounded(limit):
                    for chunk in events:
                        buffered.append(chunk)
                        if is_content_chunk(chunk):
                            return Opened(buffered, events)
                        if time.monotonic() > limit:  # chunks, but none with content
                            raise first_token_missed(window)
                fault = no_content(buffered)
                if fault is not None:
                    raise fault
                return Opened(buffered, events)
            except Exception:
                events.close()
                if time.monotonic() >= limit:
                    raise first_token_missed(window) from None
                raise
            except BaseException:
                events.close()
                raise

        return open_one

    def _source(
        self, target: Target, adapter: Adapter, params: dict[str, Any], timeout: Any
    ) -> Generator[ChatCompletionChunk, None, None]:
        """The chunks of one target's stream (a subclass may make them otherwise)."""
        return adapter.stream(params, timeout)

    def _run(
        self, opened: Opened[Generator[ChatCompletionChunk, None, None]]
    ) -> Generator[ChatCompletionChunk, None, None]:
        resumed = False
        while True:
            assert self.target is not None
            try:
                for chunk in itertools.chain(opened.chunks, opened.rest):
                    shown = self._visible(chunk, resumed)
                    if shown is not None:
                        yield shown
                error: Exception | None = None
            except Exception as exc:
                error = exc
            except BaseException:  # closed early or cancelled: no verdict on the target
                self._abandoned()
                raise
            finally:
                opened.rest.close()
            if self._finished(error):
                return
            call = self._resume_call()
            try:
                opened, target = run_sync(
                    call, self._opener(call, self._tally.text), after=self.target
                )
            except FailoverError as exc:
                self._raise(f"stream could not be resumed after {self.target.label} broke", exc)
                return
            self._switched(target)
            resumed = True

    def __iter__(self) -> Generator[ChatCompletionChunk, None, None]:
        return self._gen

    def __next__(self) -> ChatCompletionChunk:
        return next(self._gen)

    def close(self) -> None:
        """Stop reading and release the connection."""
        self._gen.close()
        self._abandoned()

    def __enter__(self) -> ChatStream:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()
