"""Checks on what providers answer, whatever the vendor: completions, stream chunks,
embeddings. A bad answer becomes a malformed-answer fault, which fails over."""

from __future__ import annotations

import base64
from collections.abc import Mapping
from typing import Any

from openai.types import CreateEmbeddingResponse
from openai.types.chat import ChatCompletion, ChatCompletionChunk
from openai.types.responses import Response

from ._errors import malformed_answer

__all__ = [
    "checked_chunk",
    "checked_completion",
    "checked_embeddings",
    "checked_response",
    "is_content_chunk",
]


def checked_completion(answer: object) -> ChatCompletion:
    """``answer`` if it is a whole, usable ChatCompletion; else a malformed-answer fault.

    The SDKs do not validate answers, so an HTML page or an error body served with
    status 200 arrives as a string or a hollow object; so does a truncated answer (no
    finish reason) or an empty one.
    """
    if not isinstance(answer, ChatCompletion) or not isinstance(answer.choices, list):
        raise malformed_answer(f"the provider answered with a {type(answer).__name__}")
    if not answer.choices:
        raise malformed_answer("the provider answered with no choices")
    for choice in answer.choices:
        message = getattr(choice, "message", None)
        if message is None or choice.finish_reason is None:
            raise malformed_answer("the answer is truncated: it has no finish reason")
        said = message.content or message.refusal or message.tool_calls
        if not said and choice.finish_reason == "stop":
            raise malformed_answer("the provider answered with an empty message")
    return answer


def checked_response(answer: object) -> Response:
    """``answer`` if it is a finished Responses answer with output; else a fault.

    A ``failed`` response (the vendor's ``error`` inside a 200) is the vendor's failure,
    and one still ``in_progress`` or ``queued`` was not finished: neither is an answer.
    """
    if not isinstance(answer, Response) or not isinstance(answer.output, list):
        raise malformed_answer(f"the provider answered with a {type(answer).__name__}")
    if answer.status not in ("completed", "incomplete"):
        error = answer.error.message if answer.error is not None else "no error given"
        raise malformed_answer(f"the response is {answer.status} ({error})"[:200])
    if not answer.output and answer.status == "completed":
        raise malformed_answer("the provider answered with no output")
    return answer


def checked_chunk(chunk: object) -> ChatCompletionChunk:
    """``chunk`` if the stream layer can read it; else a malformed-answer fault."""
    choices = getattr(chunk, "choices", None)
    if not isinstance(chunk, ChatCompletionChunk) or not isinstance(choices, list):
        raise malformed_answer("the stream sent a chunk that is not a chat completion chunk")
    for choice in choices:  # a loop, not any(): this runs on every chunk
        if getattr(choice, "delta", None) is None:
            raise malformed_answer("the stream sent a choice without a delta")
    return chunk


def is_content_chunk(chunk: ChatCompletionChunk) -> bool:
    """True iff the chunk delivers something the caller sees: text, refusal or tool-call data.

    A stream "commits" at its first content chunk; until then it can still be retried.
    """
    for choice in chunk.choices:
        delta = choice.delta
        if delta.content or delta.refusal:
            return True
        for call in delta.tool_calls or ():
            if call.function is not None and (call.function.name or call.function.arguments):
                return True
    return False


def checked_embeddings(answer: object, params: Mapping[str, Any]) -> CreateEmbeddingResponse:
    """``answer`` if it holds one vector per input, each of the requested ``dimensions``
    (and all of one size): a short or empty vector would corrupt the caller's index."""
    data = getattr(answer, "data", None)
    if not isinstance(answer, CreateEmbeddingResponse) or not isinstance(data, list) or not data:
        raise malformed_answer("the provider answered with no embeddings")
    given = params.get("input")
    wanted = len(given) if isinstance(given, list) and not _is_tokens(given) else 1
    if len(data) != wanted:
        raise malformed_answer(f"the provider answered {len(data)} embeddings for {wanted} inputs")
    sizes = {_size(item.embedding) for item in data}
    expected = params.get("dimensions")
    if len(sizes) != 1 or 0 in sizes or (expected is not None and sizes != {expected}):
        raise malformed_answer(f"the embeddings have sizes {sorted(sizes)}, not {expected}")
    return answer


def _is_tokens(given: list[Any]) -> bool:
    return bool(given) and all(isinstance(x, int) for x in given)  # one input, as token ids


def _size(vector: object) -> int:
    if isinstance(vector, str):  # encoding_format="base64": packed float32s
        return len(base64.b64decode(vector)) // 4
    return len(vector) if isinstance(vector, list) else 0
