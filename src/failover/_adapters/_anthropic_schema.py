"""OpenAI's ``response_format`` and ``reasoning_effort`` on Anthropic targets: its
``output_config``, or a skip.

Anthropic's structured outputs take a JSON schema in ``output_config.format``, and the
answer's text is the JSON (FACTS.md). Two things would make such a request fail with a
400, and a 400 stops the whole call, so neither is ever sent:

* a schema outside Anthropic's subset (``minimum``, ``maxLength``, ``maxItems``, an
  object without ``additionalProperties: false``, an external or recursive ``$ref``...);
* a model that predates structured outputs (before Claude Opus/Sonnet 4.5 and Haiku 4.5).

Either way the target is skipped with the reason in the attempt log (an
``UnsupportedParameter``), and the next target, which may be an OpenAI one, gets the
request as it was. Skipping was chosen over rewriting the schema: moving constraints
into descriptions changes what the answer is held to, and the caller asked for them.
``json_object`` (any JSON object) has no Anthropic equivalent, so it skips too.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from typing import Any

from .._core.errors import UnsupportedParameter

__all__ = ["effort", "output_config"]

# Models that take output_config.format; older ones answer 400.
_CAPABLE = re.compile(r"claude-(opus|sonnet)-4-[5-9]|claude-haiku-4-[5-9]|claude-[a-z]+-[5-9]")
_REJECTED = (
    "minimum",
    "maximum",
    "exclusiveMinimum",
    "exclusiveMaximum",
    "multipleOf",
    "minLength",
    "maxLength",
    "maxItems",
)


def output_config(response_format: Mapping[str, Any], model: str) -> dict[str, Any] | None:
    """``output_config`` for ``response_format`` (None for plain text); raises
    :class:`UnsupportedParameter` when this target cannot honour it."""
    kind = response_format.get("type")
    if kind == "text":
        return None
    if kind != "json_schema":
        raise _skip(response_format, f"{kind!r} has no anthropic equivalent (give a json_schema)")
    if not _CAPABLE.search(model):
        raise _skip(response_format, f"model {model!r} predates structured outputs")
    schema = (response_format.get("json_schema") or {}).get("schema")
    if not isinstance(schema, Mapping):
        raise _skip(response_format, "the json_schema has no schema")
    problem = schema_problem(schema)
    if problem:
        raise _skip(response_format, f"the schema is outside anthropic's subset: {problem}")
    return {"format": {"type": "json_schema", "schema": dict(schema)}}


def _skip(value: Mapping[str, Any], why: str) -> UnsupportedParameter:
    shown = repr(dict(value))
    shown = shown if len(shown) <= 60 else shown[:57] + "..."
    return UnsupportedParameter(
        f"parameter 'response_format'={shown} is not supported by anthropic targets: {why}"
    )


def schema_problem(schema: Mapping[str, Any]) -> str:
    """What Anthropic would reject in ``schema`` ("" if nothing)."""
    definitions = {**(schema.get("$defs") or {}), **(schema.get("definitions") or {})}
    return _walk(schema, definitions, frozenset(), "#")


def _walk(node: Any, defs: Mapping[str, Any], seen: frozenset[str], where: str) -> str:
    if isinstance(node, list):
        for index, item in enumerate(node):
            found = _walk(item, defs, seen, f"{where}/{index}")
            if found:
                return found
        return ""
    if not isinstance(node, Mapping):
        return ""
    ref = node.get("$ref")
    if isinstance(ref, str):
        name = ref.rsplit("/", 1)[-1]
        if not ref.startswith("#/") or name not in defs:
            return f"{where}: $ref {ref!r} is not a local definition"
        if name in seen:
            return f"{where}: $ref {ref!r} is recursive"
        found = _walk(defs[name], defs, seen | {name}, ref)
        if found:
            return found
    for keyword in _REJECTED:
        if keyword in node:
            return f"{where}: {keyword!r} is not supported"
    if isinstance(node.get("minItems"), int) and node["minItems"] > 1:
        return f"{where}: minItems above 1 is not supported"
    if node.get("type") == "object" and node.get("additionalProperties") is not False:
        return f"{where}: an object needs additionalProperties: false"
    for key, value in node.items():
        if key in ("$defs", "definitions", "$ref", "enum", "const", "default", "examples"):
            continue  # definitions are checked where they are used; the rest are values
        if key in ("properties", "patternProperties") and isinstance(value, Mapping):
            children = [(f"{where}/{key}/{name}", child) for name, child in value.items()]
        else:
            children = [(f"{where}/{key}", value)]
        for place, child in children:
            found = _walk(child, defs, seen, place)
            if found:
                return found
    return ""


# reasoning_effort -> output_config.effort. "none" asks for no reasoning, which is what
# an Anthropic call without extended thinking already does; "minimal" has no rung of
# its own, so it takes the lowest.
EFFORTS = {
    "none": None,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "xhigh",
    "max": "max",
}
# Models that take output_config.effort: Claude Opus 4.5 and the 4.6 generation on.
_EFFORT_CAPABLE = re.compile(r"claude-opus-4-[5-9]|claude-[a-z]+-4-[6-9]|claude-[a-z]+-[5-9]")


def effort(value: str, model: str) -> str | None:
    """Anthropic's effort for OpenAI's ``reasoning_effort`` (None: send none); raises
    :class:`UnsupportedParameter` for a model that would reject it."""
    if value not in EFFORTS:
        raise _unsupported_effort(value, "not a reasoning effort openai defines")
    mapped = EFFORTS[value]
    if mapped is not None and not _EFFORT_CAPABLE.search(model):
        raise _unsupported_effort(value, f"model {model!r} does not take an effort")
    return mapped


def _unsupported_effort(value: str, why: str) -> UnsupportedParameter:
    return UnsupportedParameter(
        f"parameter 'reasoning_effort'={value!r} is not supported by anthropic targets: {why}"
    )
