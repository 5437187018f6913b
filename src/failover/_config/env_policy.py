"""The policy from the environment: every ``FAILOVER_*`` knob of :class:`Policy`
(``ENV_NAMES``), each checked, with a :class:`ConfigError` naming the variable and the
form it takes."""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import fields

from .._core.errors import ConfigError
from .policy import ENV_NAMES, SAMPLING_PARAMS, Policy

__all__ = ["parse_number", "policy_from_env"]

_INT_FIELDS = frozenset(
    {
        "max_retries",
        "breaker_fail_max",
        "breaker_min_calls",
        "default_max_tokens",
        "hedge_max",
        "balance_seed",
    }
)
# The accepted form, for the settings that are not whole numbers or seconds.
_FORMS = {
    "breaker_failure_ratio": "a ratio from 0 (off) to 1",
    "retry_budget": "a share of first attempts >= 0 (0.2: at most 20% more load), or off",
    "hedge_after": "a number of seconds > 0, or off",
}


def parse_number(var: str, raw: str, integer: bool, form: str | None = None) -> float | int:
    """``raw`` as a whole number or seconds, >= 0 and finite; else an error giving ``form``."""
    form = form or ("a whole number >= 0" if integer else "a number of seconds >= 0")
    try:
        value: float | int = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{var} must be {form}, got {raw!r}", variable=var) from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{var} must be {form}, got {raw!r}", variable=var)
    return value


def _drop_params(var: str, raw: str) -> frozenset[str]:
    """``sampling`` (the default), ``none``, or names of sampling-only parameters."""
    words = {w.strip() for w in raw.split(",") if w.strip()}
    if words == {"sampling"}:
        return SAMPLING_PARAMS
    if words == {"none"}:
        return frozenset()
    if not words <= SAMPLING_PARAMS:
        unknown = ", ".join(sorted(words - SAMPLING_PARAMS))
        raise ConfigError(
            f"{var} must be sampling, none, or names among {', '.join(sorted(SAMPLING_PARAMS))} "
            f"(parameters that change an answer's meaning are never dropped); got {unknown}",
            variable=var,
        )
    return frozenset(words)


def _parse_bool(var: str, raw: str) -> bool:
    lowered = raw.strip().lower()
    if lowered in ("1", "true", "yes", "on"):
        return True
    if lowered in ("0", "false", "no", "off", ""):
        return False
    raise ConfigError(f"{var} must be 1/0, true/false, yes/no or on/off, got {raw!r}", variable=var)


def policy_from_env(env: Mapping[str, str], base: Policy | None = None) -> Policy:
    """A :class:`Policy` with every ``FAILOVER_*`` knob that is set in ``env``."""
    values: dict[str, object] = {}
    for name, var in ENV_NAMES.items():
        raw = env.get(var)
        if raw is None or raw.strip() == "":
            continue
        if name == "stream_resume":
            values[name] = _parse_bool(var, raw)
        elif name in ("retry_budget", "hedge_after") and raw.strip().lower() == "off":
            values[name] = None
        elif name == "drop_params":
            values[name] = _drop_params(var, raw)
        else:
            values[name] = parse_number(var, raw.strip(), name in _INT_FIELDS, _FORMS.get(name))
    start = base or Policy()
    merged = {f.name: values.get(f.name, getattr(start, f.name)) for f in fields(Policy)}
    return Policy(**merged)  # type: ignore[arg-type]
