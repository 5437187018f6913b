"""A Responses request as a chat request, for a target that speaks only chat.

What has a chat equivalent is mapped: ``input`` (a string, or items: messages with text
and image parts, ``function_call`` and ``function_call_output``), ``instructions``,
function tools and ``tool_choice``, ``text.format``, ``reasoning.effort``,
``max_output_tokens``, sampling and the end-user id. What only the answering vendor
keeps (``store``, ``include``, ``metadata``, ``truncation``, ``prompt_cache_key``) has
no meaning elsewhere and is not sent; ``text.verbosity`` is a style hint with no chat
equivalent on most vendors and is not sent either. Everything else (built-in tools,
``previous_response_id``, ``conversation``, stored prompts, item references,
background mode, log probabilities) raises :class:`UnsupportedParameter`, so the target
is skipped with the reason logged and nothing is dropped silently.

Reasoning items in ``input`` are not sent: their encrypted content belongs to the vendor
that made it, and no other model can read it.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from .._core.errors import UnsupportedParameter

__all__ = ["to_chat"]

_SAME = ("temperature", "top_p", "parallel_tool_calls", "service_tier")
_NOT_SENT = ("store", "include", "metadata", "truncation", "prompt_cache_key", "stream_options")
# Neutral values of what is otherwise refused: they ask for nothing.
_NEUTRAL: Mapping[str, tuple[object, ...]] = {
    "background": (False,),
    "top_logprobs": (0,),
    "previous_response_id": ("",),
}


def _unsupported(what: str) -> UnsupportedParameter:
    return UnsupportedParameter(f"{what}: only a target that serves the Responses API runs it")


def to_chat(params: Mapping[str, Any]) -> dict[str, Any]:
    """``chat.completions.create`` parameters (without ``model``) for a Responses request."""
    chat: dict[str, Any] = {"messages": _messages(params)}
    for key, value in params.items():
        if value is None or key in ("input", "instructions") or key in _NOT_SENT:
            continue
        if key in _SAME:
            chat[key] = value
        elif key == "max_output_tokens":
            chat["max_completion_tokens"] = value
        elif key in ("user", "safety_identifier"):
            chat["user"] = value
        elif key == "tools":
            if value:
                chat["tools"] = [_tool(tool) for tool in value]
        elif key == "tool_choice":
            chat["tool_choice"] = _tool_choice(value)
        elif key == "text":
            shape = _format(value)
            if shape is not None:
                chat["response_format"] = shape
        elif key == "reasoning":
            effort = value.get("effort") if isinstance(value, Mapping) else None
            if effort is not None:
                chat["reasoning_effort"] = effort
        elif key in _NEUTRAL and value in _NEUTRAL[key]:
            continue
        elif key in ("previous_response_id", "conversation"):
            raise _unsupported(f"{key!r} (a conversation stored at a vendor)")
        else:
            shown = repr(value)
            shown = shown if len(shown) <= 60 else shown[:57] + "..."
            raise UnsupportedParameter(
                f"parameter {key!r}={shown} has no chat equivalent; only a target that "
                "serves the Responses API takes it"
            )
    return chat


def _messages(params: Mapping[str, Any]) -> list[dict[str, Any]]:
    messages: list[dict[str, Any]] = []
    if params.get("instructions"):
        messages.append({"role": "system", "content": params["instructions"]})
    given = params.get("input")
    if given is None:
        raise UnsupportedParameter("parameter 'input' is required")
    if isinstance(given, str):
        messages.append({"role": "user", "content": given})
        return messages
    if not isinstance(given, Sequence):
        raise UnsupportedParameter(
            f"parameter 'input' must be a string or a list of items, got {given!r}"[:200]
        )
    for item in given:
        _add_item(messages, item)
    return messages


def _add_item(messages: list[dict[str, Any]], item: Any) -> None:
    if not isinstance(item, Mapping):
        raise UnsupportedParameter(f"an input item must be an object, got {item!r}"[:200])
    kind = item.get("type", "message")
    if kind == "message":
        role = item.get("role")
        if role not in ("user", "assistant", "system", "developer"):
            raise UnsupportedParameter(f"an input message has no known role: {role!r}")
        content = _content(item.get("content"), role)
        if role == "assistant":
            last = messages[-1] if messages else None
            if last is not None and last["role"] == "assistant" and not last.get("content"):
                last["content"] = content  # text after this turn's tool calls
                return
        # A developer message is an instruction: chat-only vendors know it as system.
        messages.append({"role": "system" if role == "developer" else role, "content": content})
    elif kind == "function_call":
        call = {
            "id": item["call_id"],
            "type": "function",
            "function": {"name": item["name"], "arguments": item.get("arguments") or "{}"},
        }
        last = messages[-1] if messages else None
        if last is not None and last["role"] == "assistant":
            last.setdefault("tool_calls", []).append(call)  # one turn, several calls
        else:
            messages.append({"role": "assistant", "content": None, "tool_calls": [call]})
    elif kind == "function_call_output":
        output = item.get("output")
        if not isinstance(output, str):
            output = _text_only(output, "a function_call_output")
        messages.append({"role": "tool", "tool_call_id": item["call_id"], "content": output})
    elif kind == "reasoning":
        return  # another vendor's reasoning: never sent (see the module's docstring)
    elif kind == "item_reference":
        raise _unsupported("an 'item_reference' input item (an item stored at a vendor)")
    else:
        raise _unsupported(f"a {kind!r} input item")


def _content(content: Any, role: str) -> Any:
    """A message's content in chat's form: a string, or a list of text and image parts."""
    if isinstance(content, str) or content is None:
        return content or ""
    parts: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type") if isinstance(part, Mapping) else None
        if kind in ("input_text", "output_text", "text"):
            parts.append({"type": "text", "text": part["text"]})
        elif kind == "refusal":
            parts.append({"type": "text", "text": part["refusal"]})
        elif kind == "input_image":
            if not part.get("image_url"):
                raise _unsupported("an 'input_image' by file_id (a file stored at a vendor)")
            image: dict[str, Any] = {"url": part["image_url"]}
            if part.get("detail") not in (None, "auto"):
                image["detail"] = part["detail"]
            parts.append({"type": "image_url", "image_url": image})
        elif kind == "input_file":
            if part.get("file_id"):
                raise _unsupported("an 'input_file' by file_id (a file stored at a vendor)")
            parts.append({"type": "file", "file": {k: v for k, v in part.items() if k != "type"}})
        else:
            raise _unsupported(f"a {kind!r} content part")
    if role != "user" and all(p["type"] == "text" for p in parts):
        return "".join(p["text"] for p in parts)  # system and assistant turns take text
    return parts


def _text_only(content: Any, where: str) -> str:
    parts = _content(content, "user")
    if isinstance(parts, str):
        return parts
    if any(p["type"] != "text" for p in parts):
        raise UnsupportedParameter(f"{where} with images or files has no chat equivalent")
    return "".join(p["text"] for p in parts)


def _tool(tool: Any) -> dict[str, Any]:
    kind = tool.get("type") if isinstance(tool, Mapping) else None
    if kind != "function":  # web_search, file_search, mcp...: they run at the vendor
        raise _unsupported(f"the built-in tool {kind!r}")
    function = {"name": tool["name"]}
    for key in ("description", "parameters", "strict"):
        if tool.get(key) is not None:
            function[key] = tool[key]
    return {"type": "function", "function": function}


def _tool_choice(choice: Any) -> Any:
    if isinstance(choice, str):
        return choice  # "auto", "none", "required" mean the same in chat
    kind = choice.get("type") if isinstance(choice, Mapping) else None
    if kind == "function":
        return {"type": "function", "function": {"name": choice["name"]}}
    raise _unsupported(f"tool_choice {json.dumps(choice, default=str)[:60]}")


def _format(text: Any) -> dict[str, Any] | None:
    """``text.format`` as chat's ``response_format`` (None: plain text)."""
    shape = text.get("format") if isinstance(text, Mapping) else None
    if not isinstance(shape, Mapping) or shape.get("type") in (None, "text"):
        return None
    if shape["type"] == "json_object":
        return {"type": "json_object"}
    if shape["type"] == "json_schema":
        schema = {k: shape[k] for k in ("name", "schema", "strict", "description") if k in shape}
        return {"type": "json_schema", "json_schema": schema}
    raise UnsupportedParameter(f"text.format {shape['type']!r} has no chat equivalent")
