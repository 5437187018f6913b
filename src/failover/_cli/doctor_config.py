"""What ``failover doctor`` finds in the environment before it sends anything.

It reads the configuration as :func:`config_from_env` does, but collects every problem
instead of stopping at the first, and adds warnings the client cannot give: the client
ignores a misspelt variable, so a typo would otherwise go unnoticed.
"""

from __future__ import annotations

import difflib
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Literal

from .._config.chains import checked_chain
from .._config.env import (
    EMBEDDING_CHAIN_ENV,
    GLOBAL_VARIABLES,
    PROVIDER_SETTINGS,
    REQUIRE_ENV,
    api_key_from_env,
    config_from_env,
    embedding_chain_from_env,
    policy_from_env,
    provider_prefix,
    requirement_from_env,
    resolve_target,
)
from .._config.policy import ENV_NAMES, PRESETS, Policy, Target
from .._core.errors import ConfigError
from .._health.redis_where import RedisWhere, timeout_from_env
from .._routing.privacy import Guard

__all__ = ["ConfigCheck", "Entry", "Finding", "check_config", "mask"]

CHAIN = "FAILOVER_CHAIN"
_PROVIDER = "FAILOVER_PROVIDER_"


@dataclass(frozen=True, slots=True)
class Finding:
    """One problem: ``error`` makes the client refuse to start, ``warning`` does not."""

    level: Literal["error", "warning"]
    variable: str
    message: str


@dataclass(frozen=True, slots=True)
class Entry:
    """One ``FAILOVER_CHAIN`` item: its target when it resolved, and its masked key."""

    item: str
    target: Target | None
    key_variable: str | None = None
    key_masked: str | None = None


@dataclass(slots=True)
class ConfigCheck:
    findings: list[Finding] = field(default_factory=list)
    entries: list[Entry] = field(default_factory=list)
    policy: Policy | None = None
    keys: list[str] = field(default_factory=list)  # to scrub from anything printed
    redis: RedisWhere | None = None  # a valid FAILOVER_REDIS_* setting, to be pinged
    require: frozenset[str] = frozenset()  # FAILOVER_REQUIRE
    places: list[int] = field(default_factory=list)  # each entry's place in the chain

    def groups(self) -> list[list[Entry]]:
        """The entries that share a place (a group joined by '|'), place by place."""
        found: dict[int, list[Entry]] = {}
        for place, entry in zip(self.places, self.entries, strict=True):
            found.setdefault(place, []).append(entry)
        return [group for group in found.values() if len(group) > 1]

    def excluded(self, target: Target | None) -> str:
        """Why FAILOVER_REQUIRE keeps calls from ``target`` ("" if it does not)."""
        missing = target.missing(self.require) if target is not None else []
        return f"lacks {', '.join(missing)}" if missing else ""

    @property
    def valid(self) -> bool:
        return not any(f.level == "error" for f in self.findings)

    def error(self, exc: ConfigError, fallback: str) -> None:
        self.findings.append(Finding("error", exc.variable or fallback, str(exc)))

    def warn(self, variable: str, message: str) -> None:
        self.findings.append(Finding("warning", variable, message))


def mask(key: str) -> str:
    """Enough of a key to tell two apart, never enough to use: ``sk-…cdef``."""
    return f"{key[:3]}…{key[-4:]}" if len(key) >= 16 else "***"


def check_config(env: Mapping[str, str]) -> ConfigCheck:
    """Every problem in ``env``'s ``FAILOVER_*`` configuration, in a stable order."""
    check = ConfigCheck()
    _check_policy(env, check)
    _check_chain(env, check)
    _check_require(env, check)
    _check_embedding_chain(env, check)
    _check_redis(env, check)
    if check.valid:
        try:  # the client's own reading is the last word: never pass what it refuses
            config_from_env(env)
        except ConfigError as exc:
            check.error(exc, CHAIN)
    _check_names(env, check)
    return check


def _check_policy(env: Mapping[str, str], check: ConfigCheck) -> None:
    # Each variable alone, so that every bad one is named rather than only the first.
    bad = False
    for var in ENV_NAMES.values():
        if var in env:
            try:
                policy_from_env({var: env[var]})
            except ConfigError as exc:
                check.error(exc, var)
                bad = True
    if bad:
        return
    check.policy = policy = policy_from_env(env)
    if policy.attempt_timeout >= policy.timeout:
        check.warn(
            ENV_NAMES["attempt_timeout"],
            f"one attempt may take the whole deadline ({policy.attempt_timeout:g} s of "
            f"{policy.timeout:g} s), leaving no time to fail over to the next target; "
            f"make it shorter than {ENV_NAMES['timeout']}",
        )


def _check_chain(env: Mapping[str, str], check: ConfigCheck) -> None:
    # Each target of each group; how they are grouped is checked by the client's reading.
    places = [i for i in env.get(CHAIN, "").split(",") if i.strip()]
    grouped = [(n, m.strip()) for n, place in enumerate(places, 1) for m in place.split("|")]
    items = [item for _, item in grouped if item]
    check.places = [n for n, item in grouped if item]
    if not items:
        check.findings.append(
            Finding(
                "error",
                CHAIN,
                f"{CHAIN} is not set: set it to provider/model items in order, e.g. "
                f"{CHAIN}=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5",
            )
        )
        return
    for item in items:
        try:
            target = resolve_target(item, env, var=CHAIN)
        except ConfigError as exc:
            check.error(exc, CHAIN)
            check.entries.append(Entry(item, None))
            continue
        check.entries.append(_entry(item, target, env, check))
    resolved = [e.target for e in check.entries if e.target is not None]
    if len(resolved) == len(items):
        try:
            checked_chain(resolved, CHAIN)
        except ConfigError as exc:
            check.error(exc, CHAIN)


def _entry(item: str, target: Target, env: Mapping[str, str], check: ConfigCheck) -> Entry:
    if target.degraded or target.in_process:  # no server, so no key
        return Entry(item, target)
    variable, key = api_key_from_env(target.provider, env)
    # The clouds' own secrets, wherever they might be echoed, are masked like keys.
    check.keys += [env[n] for n in _CLOUD_SECRETS if env.get(n)]
    if key:
        check.keys.append(key)
        return Entry(item, target, variable, mask(key))
    if target.api in _CLOUD_CREDENTIALS:
        names, where = _CLOUD_CREDENTIALS[target.api]
        if not any(env.get(n) for n in names):
            check.warn(
                provider_prefix(target.provider) + "API_KEY",
                f"{item}: no token, and none of {', '.join(names)} is set: {where}",
            )
        return Entry(item, target)
    if target.provider not in PRESETS:  # built-ins without a key (ollama, vllm) need none
        check.warn(
            provider_prefix(target.provider) + "API_KEY",
            f"{item}: no API key is set; fine only if the server at {target.base_url} needs none",
        )
    return Entry(item, target)


# Where Bedrock and Vertex AI find credentials when no token is given: which variables
# show them in the environment, and what else may still provide them.
_CLOUD_CREDENTIALS = {
    "bedrock": (
        ("AWS_ACCESS_KEY_ID", "AWS_PROFILE", "AWS_WEB_IDENTITY_TOKEN_FILE"),
        "calls are signed with AWS's credential chain, which then needs ~/.aws or an "
        "instance or task role",
    ),
    "vertex": (
        ("GOOGLE_APPLICATION_CREDENTIALS",),
        "calls use Google's Application Default Credentials, which then need "
        "`gcloud auth application-default login` or an attached service account",
    ),
}
_CLOUD_SECRETS = ("AWS_SECRET_ACCESS_KEY", "AWS_SESSION_TOKEN", "AWS_BEARER_TOKEN_BEDROCK")


def _check_require(env: Mapping[str, str], check: ConfigCheck) -> None:
    try:
        check.require = requirement_from_env(env)
    except ConfigError as exc:
        check.error(exc, REQUIRE_ENV)
        return
    resolved = [e.target for e in check.entries if e.target is not None]
    if check.require and len(resolved) == len(check.entries):
        try:
            Guard(check.require, source=REQUIRE_ENV).check(resolved)
        except ConfigError as exc:
            check.error(exc, REQUIRE_ENV)


def _check_embedding_chain(env: Mapping[str, str], check: ConfigCheck) -> None:
    try:
        embedding_chain_from_env(env)
    except ConfigError as exc:
        check.error(exc, EMBEDDING_CHAIN_ENV)


def _check_redis(env: Mapping[str, str], check: ConfigCheck) -> None:
    try:
        check.redis = RedisWhere.from_env(env)
        timeout_from_env(env)
    except ConfigError as exc:
        check.error(exc, "FAILOVER_REDIS_URL")


def _check_names(env: Mapping[str, str], check: ConfigCheck) -> None:
    items = [e.item for e in check.entries]
    items += [i for i in env.get(EMBEDDING_CHAIN_ENV, "").split(",") if i.strip()]
    used = {provider_prefix(item.partition("/")[0].strip().lower()) for item in items}
    for name in sorted(env):
        if not name.startswith("FAILOVER_") or name in GLOBAL_VARIABLES:
            continue
        if name.startswith(_PROVIDER):
            _check_provider_name(name, used, check)
            continue
        hint = difflib.get_close_matches(name, sorted(GLOBAL_VARIABLES), n=1)
        check.warn(
            name,
            "unknown variable; failover ignores it"
            + (f" (did you mean {hint[0]}?)" if hint else ""),
        )


def _check_provider_name(name: str, used: set[str], check: ConfigCheck) -> None:
    # Longest first: FAILOVER_PROVIDER_X_API_KEY also ends with "_KEY", not with "_API".
    for setting in sorted(PROVIDER_SETTINGS, key=len, reverse=True):
        prefix = name[: -len(setting)]
        if name.endswith("_" + setting) and len(prefix) > len(_PROVIDER):
            if prefix not in used:
                check.warn(name, f"sets up a provider that {CHAIN} does not use")
            return
    forms = ", ".join(f"{_PROVIDER}<NAME>_{s}" for s in PROVIDER_SETTINGS)
    check.warn(name, f"unknown provider setting; failover ignores it (it reads {forms})")
