"""Facts about ``ChatCompletionChunk`` that the stream layer needs, whatever the vendor."""

from __future__ import annotations

from openai.types.chat import ChatCompletion, ChatCompletionChunk

from ._adapters._errors import malformed_answer

__all__ = ["checked_chunk", "checked_completion", "is_content_chunk"]


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
