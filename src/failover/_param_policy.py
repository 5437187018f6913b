"""Which parameters a target may go without: ``FAILOVER_DROP_PARAMS``.

Parameters that change what the answer means (``n`` above 1, ``logprobs``,
``response_format``, tools) are never dropped: a target that cannot honour them is
skipped. Sampling-only parameters only nudge how an answer is drawn, so during an
outage an answer without them beats none: by default (``sampling``) they are dropped
on a target that lacks them, and each drop is logged in the attempt log as
``adjusted``. ``FAILOVER_DROP_PARAMS`` may instead list the names to drop, or say
``none``.

Today the targets that lack some are Anthropic's: no ``seed``, penalties,
``logit_bias`` or ``service_tier``. OpenAI-compatible targets receive every parameter.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from ._config import SAMPLING_PARAMS as SAMPLING
from ._config import Target

__all__ = ["SAMPLING", "fit"]

# What each wire protocol lacks of them.
_LACKS: Mapping[str, frozenset[str]] = {"anthropic": SAMPLING}


def fit(
    target: Target, params: dict[str, Any], drop: frozenset[str]
) -> tuple[dict[str, Any], list[str]]:
    """``params`` without the droppable ones ``target`` lacks, and what was dropped."""
    gone = sorted(
        key for key in drop & _LACKS.get(target.api, frozenset()) if params.get(key) is not None
    )
    if not gone:
        return params, []
    return {k: v for k, v in params.items() if k not in gone}, [
        f"{key}={params[key]!r}" for key in gone
    ]
