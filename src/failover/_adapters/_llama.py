"""One llama.cpp model per process: loaded once, used by one generation at a time.

A llama.cpp context holds one sequence and is not re-entrant, so every generation
takes the model's lock. Blocking callers take it on their own thread; asyncio callers
hand the generation to the model's one worker thread (a thread of its own, not the
event loop's default executor, whose threads DNS look-ups need meanwhile).

llama-cpp-python offers no way to stop a generation from outside, but its stream
yields once per token, so :meth:`Model.generate` checks between tokens whether the
caller gave up or the time ran out, and closes the stream there.
"""

from __future__ import annotations

import atexit
import os
import threading
import time
from collections.abc import Callable, Generator, Iterator
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from .._core.decisions import ErrorKind, Failure
from ._errors import ProviderFault

__all__ = ["Model", "Stop", "load"]

# Enough for a conversation with a small model; llama.cpp's own default (512) is too
# short, and the 8k SmolLM2 was trained on costs its KV cache four times the memory.
CONTEXT_TOKENS = 2048
# llama.cpp's threads spin while they wait for each other, so sharing a core with the
# application collapses them. One core is left to the application (its event loop and
# I/O), and no more than 4 are taken: a small model gains nothing from more. On 2 cores,
# SmolLM2-135M measured 37 tokens/s with 1 thread whether the other core was busy or
# not; 2 threads gave 64 on an idle machine but 24 with one core busy.
THREADS = max(1, min((os.cpu_count() or 1) - 1, 4))


class Stop(Exception):
    """The caller gave up (closed, cancelled, lost a hedge): end quietly, no verdict."""


class Model:
    """A loaded GGUF model, its lock, and the worker thread for asyncio callers."""

    def __init__(self, path: str) -> None:
        import llama_cpp  # the extra failover[local]; imported only when a chain needs it

        self.path = path
        self._llama = llama_cpp.Llama(
            model_path=path, n_ctx=CONTEXT_TOKENS, n_threads=THREADS, verbose=False
        )
        self._lock = threading.Lock()
        self.worker = ThreadPoolExecutor(1, thread_name_prefix="failover-local")
        # One token now: llama.cpp sets up its compute graph and the chat template on
        # the first generation, which would otherwise cost the first request 0.2 s more.
        self._llama.create_chat_completion([{"role": "user", "content": "Hi"}], max_tokens=1)

    def close(self) -> None:
        self._llama.close()

    def generate(
        self,
        request: dict[str, Any],
        *,
        until: float,
        idle: float | None,
        stopped: Callable[[], bool],
    ) -> Iterator[tuple[dict[str, Any], int]]:
        """llama's chat chunks, each with the context's token count, under the lock.

        Waiting for the model and for the first token ends by ``until`` (monotonic
        time); so does the whole generation when ``idle`` is None, else each later token
        may come at most ``idle`` seconds after the one before (a stream's rule).
        ``stopped()`` is asked between tokens. The lock is held until the generator
        ends or is closed.
        """
        if not self._lock.acquire(timeout=max(until - time.monotonic(), 0.0)):
            raise _busy()
        try:
            if stopped():
                raise Stop
            # With stream=True the answer is a generator of chunk dicts.
            chunks: Generator[dict[str, Any], None, None]
            chunks = self._llama.create_chat_completion(**request, stream=True)  # type: ignore[assignment]
            limit = until
            try:
                while True:
                    try:
                        chunk = next(chunks)
                    except StopIteration:
                        return
                    except Exception as exc:  # only llama.cpp's code ran: its failure
                        raise _fault(exc) from exc
                    if stopped():
                        raise Stop
                    now = time.monotonic()
                    if now > limit:
                        raise ProviderFault(
                            Failure(transport="timeout", message="generation passed its time")
                        )
                    if idle is not None:
                        limit = now + idle
                    # At the first chunk the prompt is evaluated and its first token not
                    # yet: the context holds exactly the prompt (the stream has no usage).
                    yield chunk, self._llama.n_tokens
            finally:
                chunks.close()
        finally:
            self._lock.release()


def _busy() -> ProviderFault:
    # Like a 429: the model is fine, only taken; it is retried and never trips a breaker.
    message = "the local model was busy with other calls for the whole attempt"
    return ProviderFault(Failure(kind=ErrorKind.RATE_LIMIT, message=message))


def _fault(exc: Exception) -> ProviderFault:
    """A prompt longer than the context ("Requested tokens (N) exceed context window")
    may fit a later target; anything else is this model failing."""
    too_long = isinstance(exc, ValueError) and "context window" in str(exc)
    kind = ErrorKind.CONTEXT_LENGTH if too_long else ErrorKind.SERVER_ERROR
    return ProviderFault(Failure(kind=kind, message=f"llama.cpp: {exc}"[:300]))


_models: dict[str, Model] = {}
_loading = threading.Lock()


@atexit.register
def _free() -> None:
    """Free the models while the interpreter still works: left to ``Llama.__del__``,
    freeing runs after module teardown and prints a TypeError at every exit."""
    for model in _models.values():
        model.worker.shutdown(wait=False, cancel_futures=True)
        model.close()
    _models.clear()


def load(path: str) -> Model:
    """The process's one :class:`Model` for ``path``, loaded on first use."""
    found = _models.get(path)
    if found is None:
        with _loading:  # two clients built at once must not load the model twice
            found = _models.get(path)
            if found is None:
                found = _models[path] = Model(path)
    return found
