"""A chat answer as a Responses ``Response``, for a target that speaks only chat.

The answer's text becomes one ``message`` item (a refusal, a ``refusal`` part), and
each tool call a ``function_call`` item whose ``call_id`` is the vendor's tool-call id,
so that the caller's ``function_call_output`` finds its call again on any target. A
chat answer cut at the token limit is ``incomplete`` for ``max_output_tokens``, one
stopped by a content filter ``incomplete`` for ``content_filter``. Usage counts cached
and reasoning tokens where the vendor gave them, zeros where it did not.

The ``Response`` also echoes what the request asked for (instructions, tools, sampling,
``text``, ``reasoning``, metadata), as OpenAI's does, and carries the model that
actually answered.
"""

from __future__ import annotations

import secrets
from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from openai.types.chat import ChatCompletion
    from openai.types.responses import Response

__all__ = ["new_id", "response_from_chat", "response_shell", "usage_from_chat"]

_INCOMPLETE = {"length": "max_output_tokens", "content_filter": "content_filter"}
_ECHOED = (
    "instructions",
    "max_output_tokens",
    "metadata",
    "parallel_tool_calls",
    "previous_response_id",
    "reasoning",
    "service_tier",
    "temperature",
    "text",
    "tool_choice",
    "tools",
    "top_p",
    "truncation",
    "user",
    "safety_identifier",
    "prompt_cache_key",
)


def new_id(prefix: str) -> str:
    """An item or response id in OpenAI's form (``msg_...``, ``resp_...``)."""
    return f"{prefix}_{secrets.token_hex(24)}"


def response_shell(request: Mapping[str, Any], model: str, created: float) -> dict[str, Any]:
    """A Response's fields before its output: what the request asked for, echoed."""
    shell: dict[str, Any] = {
        "id": new_id("resp"),
        "object": "response",
        "created_at": created,
        "model": model,
        "status": "in_progress",
        "output": [],
        "parallel_tool_calls": True,
        "tool_choice": "auto",
        "tools": [],
        "error": None,
        "incomplete_details": None,
    }
    shell.update({k: request[k] for k in _ECHOED if request.get(k) is not None})
    shell["metadata"] = dict(request.get("metadata") or {})
    return shell


def usage_from_chat(usage: Any) -> dict[str, Any] | None:
    """A chat ``usage`` (object or dict) in the Responses form; None when none was given."""
    if usage is None:
        return None
    data = usage if isinstance(usage, Mapping) else usage.model_dump()
    prompt = data.get("prompt_tokens") or 0
    completion = data.get("completion_tokens") or 0
    cache = data.get("prompt_tokens_details") or {}
    reasoning = (data.get("completion_tokens_details") or {}).get("reasoning_tokens") or 0
    return {
        "input_tokens": prompt,
        "input_tokens_details": {
            "cached_tokens": cache.get("cached_tokens") or 0,
            "cache_write_tokens": cache.get("cache_write_tokens") or 0,
        },
        "output_tokens": completion,
        "output_tokens_details": {"reasoning_tokens": reasoning},
        "total_tokens": data.get("total_tokens") or prompt + completion,
    }


def message_item(text: str | None, refusal: str | None, status: str) -> dict[str, Any]:
    """An assistant ``message`` item holding ``text`` (or ``refusal``)."""
    part: dict[str, Any] = (
        {"type": "refusal", "refusal": refusal}
        if refusal
        else {"type": "output_text", "text": text or "", "annotations": [], "logprobs": []}
    )
    return {
        "id": new_id("msg"),
        "type": "message",
        "role": "assistant",
        "status": status,
        "content": [part],
    }


def call_item(call_id: str, name: str, arguments: str, status: str) -> dict[str, Any]:
    """A ``function_call`` item; ``call_id`` is the vendor's tool-call id."""
    return {
        "id": new_id("fc"),
        "type": "function_call",
        "call_id": call_id,
        "name": name,
        "arguments": arguments,
        "status": status,
    }


def finish(shell: dict[str, Any], finish_reason: str | None) -> dict[str, Any]:
    """``shell`` with the status and incomplete details a chat finish reason means."""
    reason = _INCOMPLETE.get(finish_reason or "")
    shell["status"] = "incomplete" if reason else "completed"
    shell["incomplete_details"] = {"reason": reason} if reason else None
    return shell


def response_from_chat(answer: ChatCompletion, request: Mapping[str, Any]) -> Response:
    """``answer`` as the Response a Responses API would have given ``request``."""
    from openai.types.responses import Response

    shell = response_shell(request, answer.model, float(answer.created))
    choice = answer.choices[0] if answer.choices else None
    if choice is not None:
        message = choice.message
        if message.content or message.refusal or not message.tool_calls:
            shell["output"].append(message_item(message.content, message.refusal, "completed"))
        for call in message.tool_calls or ():
            function = getattr(call, "function", None)
            if function is not None:
                item = call_item(call.id, function.name, function.arguments, "completed")
                shell["output"].append(item)
    finish(shell, choice.finish_reason if choice is not None else None)
    shell["usage"] = usage_from_chat(answer.usage)
    return Response.model_validate(shell)
