"""Pure conversions between OpenAI chat.completions shapes and the Anthropic Messages API.

No network and no client objects: the Anthropic adapter calls these, and they are tested
in isolation. Anything that cannot be expressed for Anthropic raises
:class:`~failover._core.errors.UnsupportedParameter` *before* a request is sent, because
silently dropping a meaningful parameter would give the caller a different answer than
the one they asked for.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from types import MappingProxyType
from typing import Any, Literal

from anthropic.types import (
    InputJSONDelta,
    Message,
    MessageDeltaUsage,
    RawContentBlockDeltaEvent,
    RawContentBlockStartEvent,
    RawMessageDeltaEvent,
    RawMessageStartEvent,
    RawMessageStopEvent,
    RawMessageStreamEvent,
    TextBlock,
    TextDelta,
    ToolUseBlock,
    Usage,
)
from openai.types import CompletionUsage
from openai.types.chat import ChatCompletion, ChatCompletionChunk

from .._core.errors import UnsupportedParameter
from ._anthropic_schema import effort, output_config

__all__ = [
    "STOP_REASONS",
    "AnthropicChunkConverter",
    "from_anthropic_message",
    "to_anthropic_request",
]

FinishReason = Literal["stop", "length", "tool_calls", "content_filter"]

#: Anthropic ``stop_reason`` -> OpenAI ``finish_reason``; reasons not listed map to "stop".
STOP_REASONS: Mapping[str, FinishReason] = MappingProxyType(
    {
        "end_turn": "stop",
        "stop_sequence": "stop",
        "max_tokens": "length",
        "model_context_window_exceeded": "length",  # output cut short, like max_tokens
        "tool_use": "tool_calls",
        "refusal": "content_filter",
        "pause_turn": "stop",
    }
)

# Keys converted by to_anthropic_request ("stream_options" is handled by the caller).
_MAPPED = frozenset(
    {"messages", "max_tokens", "max_completion_tokens", "temperature", "top_p", "stop", "user"}
    | {"tools", "tool_choice", "parallel_tool_calls", "stream_options", "response_format"}
    | {"reasoning_effort"}
)
# Keys with no Anthropic equivalent -> the values meaning "not used" (None always does).
# 0 == 0.0 == False in Python, so one numeric neutral covers every spelling.
_NEUTRAL: Mapping[str, tuple[object, ...]] = MappingProxyType(
    {
        "n": (1,),
        "logprobs": (False,),
        "top_logprobs": (0,),
        "logit_bias": ({},),
        "presence_penalty": (0,),
        "frequency_penalty": (0,),
        "modalities": (["text"],),
        "store": (False,),
        "metadata": ({},),
        "service_tier": ("auto", "default"),
    }
)
_MESSAGE_KEYS = {"assistant": {"tool_calls"}, "tool": {"tool_call_id"}}
_IMAGE_TYPES = frozenset({"image/jpeg", "image/png", "image/gif", "image/webp"})


def _unsupported(name: str, value: object) -> UnsupportedParameter:
    shown = repr(value)
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return UnsupportedParameter(f"parameter {name!r}={shown} is not supported by anthropic targets")


def to_anthropic_request(
    params: Mapping[str, Any], *, model: str, default_max_tokens: int = 4096
) -> dict[str, Any]:
    """Build ``anthropic.messages.create`` kwargs from OpenAI chat.completions kwargs.

    The caller strips ``model``, ``stream``, ``timeout``, ``extra_headers`` and
    ``extra_body``; every other key is mapped, neutral, or rejected.
    """
    for key, value in params.items():
        if value is not None and key not in _MAPPED and value not in _NEUTRAL.get(key, ()):
            raise _unsupported(key, value)

    system, messages = _convert_messages(params.get("messages") or [])
    max_tokens = params.get("max_completion_tokens")
    if max_tokens is None:
        max_tokens = params.get("max_tokens")
    out: dict[str, Any] = {
        "model": model,
        "messages": messages,
        "max_tokens": default_max_tokens if max_tokens is None else max_tokens,
    }
    if system:
        out["system"] = system
    temperature = params.get("temperature")
    if temperature is not None:
        if temperature > 1:  # OpenAI allows 0..2, Anthropic 0..1; rescaling would lie
            raise _unsupported("temperature", temperature)
        out["temperature"] = temperature
    if params.get("top_p") is not None:
        out["top_p"] = params["top_p"]
    stop = params.get("stop")
    if stop:
        out["stop_sequences"] = [stop] if isinstance(stop, str) else list(stop)
    if params.get("user"):
        out["metadata"] = {"user_id": params["user"]}
    tools = params.get("tools")
    if tools:
        out["tools"] = [_convert_tool(t) for t in tools]
    choice = _convert_tool_choice(params.get("tool_choice"))
    if params.get("parallel_tool_calls") is False and tools:
        choice = choice or {"type": "auto"}
        if choice["type"] != "none":
            choice["disable_parallel_tool_use"] = True
    if choice is not None:
        out["tool_choice"] = choice
    if params.get("response_format"):
        config = output_config(params["response_format"], model)  # may skip this target
        if config is not None:
            out["output_config"] = config
    if params.get("reasoning_effort"):
        level = effort(params["reasoning_effort"], model)  # may skip this target
        if level is not None:
            out.setdefault("output_config", {})["effort"] = level
    return out


def _convert_tool(tool: Mapping[str, Any]) -> dict[str, Any]:
    if tool.get("type") != "function":
        raise _unsupported("tools", tool)
    fn = tool["function"]
    schema = fn.get("parameters") or {"type": "object", "properties": {}}
    out: dict[str, Any] = {"name": fn["name"], "input_schema": schema}
    if fn.get("description"):
        out["description"] = fn["description"]
    if fn.get("strict"):
        out["strict"] = True
    return out


def _convert_tool_choice(choice: Any) -> dict[str, Any] | None:
    simple = {"auto": "auto", "required": "any", "none": "none"}
    if choice is None:
        return None
    if isinstance(choice, str) and choice in simple:
        return {"type": simple[choice]}
    if isinstance(choice, Mapping) and choice.get("type") == "function":
        return {"type": "tool", "name": choice["function"]["name"]}
    raise _unsupported("tool_choice", choice)


def _convert_messages(messages: Any) -> tuple[str, list[dict[str, Any]]]:
    """Return (system text, alternating Anthropic messages).

    System/developer messages are hoisted and joined with blank lines. Consecutive
    same-role turns are merged (tool results are user turns); merging never reorders, so
    a trailing assistant message stays last and Anthropic continues it as a prefill.
    """
    system: list[str] = []
    out: list[dict[str, Any]] = []
    for i, msg in enumerate(messages):
        role = msg.get("role")
        allowed = {"role", "content"} | _MESSAGE_KEYS.get(role, set())
        for key, value in msg.items():
            if value is not None and key not in allowed:  # e.g. name, refusal, audio
                raise _unsupported(f"messages[{i}].{key}", value)
        content = msg.get("content")
        if role in ("system", "developer"):
            blocks = _blocks(content, i)
            if any(b["type"] != "text" for b in blocks):
                raise _unsupported(f"messages[{i}].content", "non-text system content")
            if blocks:
                system.append("".join(b["text"] for b in blocks))
            continue
        if role == "tool":
            result = content if isinstance(content, str) else _blocks(content, i)
            blocks = [{"type": "tool_result", "tool_use_id": msg["tool_call_id"]}]
            blocks[0]["content"] = result
            role = "user"
        elif role in ("user", "assistant"):
            blocks = _blocks(content, i) + [_tool_use(c, i) for c in msg.get("tool_calls") or ()]
        else:
            raise _unsupported(f"messages[{i}].role", role)
        if out and out[-1]["role"] == role:
            out[-1]["content"].extend(blocks)
        elif blocks:
            out.append({"role": role, "content": blocks})
    if out and out[-1]["role"] == "assistant":
        # Anthropic rejects a final assistant turn that ends in whitespace or is empty.
        last = out[-1]["content"]
        if last[-1]["type"] == "text":
            last[-1]["text"] = last[-1]["text"].rstrip()
            if not last[-1]["text"]:
                last.pop()
        if not last:
            out.pop()
    return "\n\n".join(system), out


def _blocks(content: Any, i: int) -> list[dict[str, Any]]:
    """OpenAI content (string or parts) -> Anthropic blocks; empty text is dropped."""
    if not content:
        return []
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    blocks: list[dict[str, Any]] = []
    for part in content:
        kind = part.get("type")
        if kind == "text":
            if part["text"]:
                blocks.append({"type": "text", "text": part["text"]})
        elif kind == "image_url":
            blocks.append({"type": "image", "source": _image_source(part["image_url"]["url"], i)})
        else:
            raise _unsupported(f"messages[{i}].content[].type", kind)
    return blocks


def _image_source(url: str, i: int) -> dict[str, Any]:
    if url.startswith(("https://", "http://")):
        return {"type": "url", "url": url}
    header, sep, data = url.partition(",")
    media_type = header.removeprefix("data:").removesuffix(";base64")
    if not sep or header != f"data:{media_type};base64" or media_type not in _IMAGE_TYPES:
        raise _unsupported(f"messages[{i}].content[].image_url", url)
    return {"type": "base64", "media_type": media_type, "data": data}


def _tool_use(call: Mapping[str, Any], i: int) -> dict[str, Any]:
    name = f"messages[{i}].tool_calls[].function.arguments"
    if call.get("type", "function") != "function":
        raise _unsupported(f"messages[{i}].tool_calls[].type", call.get("type"))
    fn = call["function"]
    try:
        args = json.loads(fn.get("arguments") or "{}")
    except json.JSONDecodeError:
        args = None
    if not isinstance(args, dict):  # Anthropic's input must be an object
        raise _unsupported(name, fn["arguments"])
    return {"type": "tool_use", "id": call["id"], "name": fn["name"], "input": args}


def _usage(usage: Mapping[str, Any]) -> dict[str, Any]:
    """Anthropic's input_tokens exclude cache reads/writes; OpenAI's prompt_tokens include them."""
    cached = usage.get("cache_read_input_tokens") or 0
    prompt = (usage.get("input_tokens") or 0) + (usage.get("cache_creation_input_tokens") or 0)
    prompt += cached
    completion = usage.get("output_tokens") or 0
    out: dict[str, Any] = {
        "prompt_tokens": prompt,
        "completion_tokens": completion,
        "total_tokens": prompt + completion,
    }
    if cached:
        out["prompt_tokens_details"] = {"cached_tokens": cached}
    return out


def from_anthropic_message(message: Message) -> ChatCompletion:
    """Convert a non-streaming Anthropic ``Message`` into an OpenAI ``ChatCompletion``."""
    text = "".join(b.text for b in message.content if isinstance(b, TextBlock))
    uses = [b for b in message.content if isinstance(b, ToolUseBlock)]
    calls = [
        {
            "id": b.id,
            "type": "function",
            "function": {"name": b.name, "arguments": json.dumps(b.input)},
        }
        for b in uses
    ]
    reply: dict[str, Any] = {"role": "assistant", "content": text or (None if calls else "")}
    if calls:
        reply["tool_calls"] = calls
    if message.stop_reason is None:
        # A whole message always says why it stopped; without it the answer is cut.
        raise ValueError("the message has no stop_reason: the answer is truncated")
    finish = STOP_REASONS.get(message.stop_reason, "stop")
    return ChatCompletion.model_validate(
        {
            "id": message.id,
            "object": "chat.completion",
            "created": int(time.time()),
            "model": message.model,
            "choices": [{"index": 0, "message": reply, "finish_reason": finish}],
            "usage": _usage(message.usage.model_dump()),
        }
    )


class AnthropicChunkConverter:
    """Turns one Anthropic event stream into OpenAI ``ChatCompletionChunk`` lists.

    One instance per stream. ``finished`` means a stop reason arrived (message_delta),
    ``stopped`` that message_stop arrived; a stream ending without them was cut off.
    With ``include_usage`` the usage chunk (``choices=[]``) is emitted on message_stop,
    because OpenAI sends it last and Anthropic's counts are final only then. ``usage``
    always holds the counts so far, for callers whose stream broke first.
    """

    def __init__(self, *, include_usage: bool) -> None:
        self.include_usage = include_usage
        self.finished = False
        self.stopped = False
        self.usage: CompletionUsage | None = None
        self._id = ""
        self._model = ""
        self._created = int(time.time())
        self._raw_usage: dict[str, Any] = {}
        self._tool_index: dict[int, int] = {}  # anthropic block index -> OpenAI tool index

    def feed(self, event: RawMessageStreamEvent) -> list[ChatCompletionChunk]:
        """Convert one event; other events (ping, thinking, signature, ...) yield ``[]``."""
        if isinstance(event, RawMessageStartEvent):
            self._id, self._model = event.message.id, event.message.model
            self._set_usage(event.message.usage)
            return [self._chunk({"role": "assistant", "content": None})]
        if isinstance(event, RawContentBlockStartEvent):
            block = event.content_block
            if isinstance(block, ToolUseBlock):
                index = self._tool_index[event.index] = len(self._tool_index)
                fn = {"name": block.name, "arguments": ""}
                return [self._tool_chunk(index, id=block.id, type="function", function=fn)]
            if isinstance(block, TextBlock) and block.text:
                return [self._chunk({"content": block.text})]
        elif isinstance(event, RawContentBlockDeltaEvent):
            delta, tool = event.delta, self._tool_index.get(event.index)
            if isinstance(delta, TextDelta) and delta.text:
                return [self._chunk({"content": delta.text})]
            if isinstance(delta, InputJSONDelta) and delta.partial_json and tool is not None:
                return [self._tool_chunk(tool, function={"arguments": delta.partial_json})]
        elif isinstance(event, RawMessageDeltaEvent):
            self._set_usage(event.usage)
            if event.delta.stop_reason is not None:
                self.finished = True
                finish = STOP_REASONS.get(event.delta.stop_reason, "stop")
                return [self._chunk({}, finish)]
        elif isinstance(event, RawMessageStopEvent):
            self.stopped = True
            if self.include_usage and self.usage is not None:
                return [self._make([], self.usage.model_dump(exclude_unset=True))]
        return []

    def _set_usage(self, usage: Usage | MessageDeltaUsage) -> None:
        """message_delta usage is cumulative, and its None fields mean "unchanged"."""
        self._raw_usage.update({k: v for k, v in usage.model_dump().items() if v is not None})
        self.usage = CompletionUsage.model_validate(_usage(self._raw_usage))

    def _tool_chunk(self, index: int, **call: Any) -> ChatCompletionChunk:
        return self._chunk({"tool_calls": [{"index": index, **call}]})

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> ChatCompletionChunk:
        return self._make([{"index": 0, "delta": delta, "finish_reason": finish}])

    def _make(self, choices: list[Any], usage: dict[str, Any] | None = None) -> ChatCompletionChunk:
        data: dict[str, Any] = {"id": self._id, "object": "chat.completion.chunk"}
        data.update(created=self._created, model=self._model, choices=choices)
        if usage is not None:
            data["usage"] = usage
        return ChatCompletionChunk.model_validate(data)
