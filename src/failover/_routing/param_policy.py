"""Which parameters a target may go without: ``FAILOVER_DROP_PARAMS``.

Parameters that change what the answer means (``n`` above 1, ``logprobs``,
``response_format``, tools) are never dropped: a target that cannot honour them is
skipped. Sampling-only parameters only nudge how an answer is drawn, so during an
outage an answer without them beats none: by default (``sampling``) they are dropped
on a target that lacks them, and each drop is logged in the attempt log as
``adjusted``. ``FAILOVER_DROP_PARAMS`` may instead list the names to drop, or say
``none``.

Today the targets that lack some are Anthropic's (no ``seed``, penalties,
``logit_bias`` or ``service_tier``) and models in this process (no ``logit_bias`` or
``service_tier``). OpenAI-compatible targets receive every parameter.
"""

from __future__ import annotations

from collections.abc import Callable, Collection, Mapping
from typing import Any

from .._config.policy import CLAUDE_APIS, Target
from .._config.policy import SAMPLING_PARAMS as SAMPLING

__all__ = ["SAMPLING", "fit", "supports"]

# What each wire protocol lacks of them.
_LACKS: Mapping[str, frozenset[str]] = {
    "anthropic": SAMPLING,
    "bedrock": SAMPLING,  # Claude on the clouds: the same Messages API
    "vertex": SAMPLING,
    "local": frozenset({"logit_bias", "service_tier"}),
}
# What a model in this process cannot honour at all (``_adapters/_local.py``).
_LOCAL_SKIPS = ("tools", "response_format", "reasoning_effort", "n > 1", "logprobs", "images")


def fit(
    target: Target, params: dict[str, Any], drop: Collection[str]
) -> tuple[dict[str, Any], list[str]]:
    """``params`` without the droppable ones ``target`` lacks, and what was dropped."""
    lacks = _LACKS.get(target.api)
    if lacks is None or not drop:
        return params, []  # the common case, once per target per call: nothing to do
    gone = sorted(key for key in lacks.intersection(drop) if params.get(key) is not None)
    if not gone:
        return params, []
    return {k: v for k, v in params.items() if k not in gone}, [
        f"{key}={params[key]!r}" for key in gone
    ]


def supports(target: Target, drop: Collection[str]) -> dict[str, str]:
    """What ``target`` does with the parameters whose meaning varies by vendor (for
    ``failover doctor``): ``"yes"``, ``"no (skipped)"``, or ``"dropped"``."""
    if target.degraded:
        return {}
    if target.api == "local":
        local = {name: "no (skipped)" for name in _LOCAL_SKIPS}
        for name in sorted(_LACKS["local"]):
            local[name] = "dropped" if name in drop else "no (skipped)"
        return local
    if target.api not in CLAUDE_APIS:
        return {"everything": "yes, as given"}
    from .._adapters._anthropic_schema import EFFORTS, effort, output_config
    from .._core.errors import UnsupportedParameter

    found: dict[str, str] = {}
    probes: dict[str, Callable[[], object]] = {
        "response_format json_schema": lambda: output_config(_PROBE_SCHEMA, target.model),
        "reasoning_effort": lambda: effort(next(k for k, v in EFFORTS.items() if v), target.model),
    }
    for name, probe in probes.items():
        try:
            probe()
            found[name] = "yes"
        except UnsupportedParameter:
            found[name] = "no (skipped)"
    for name in sorted(SAMPLING):
        found[name] = "dropped" if name in drop else "no (skipped)"
    for name in ("n > 1", "logprobs", "response_format json_object"):
        found[name] = "no (skipped)"
    return found


_PROBE_SCHEMA = {
    "type": "json_schema",
    "json_schema": {"schema": {"type": "object", "properties": {}, "additionalProperties": False}},
}
