"""Reading the chain and the policy from the environment.

:func:`config_from_env` builds the chain and the policy from ``FAILOVER_*`` and the
vendors' standard variables, and raises :class:`ConfigError` naming the variable for
anything it cannot use, before any request is sent. :func:`health_from_env` picks
where breakers live (``FAILOVER_REDIS_URL``).
"""

from __future__ import annotations

import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import fields, replace
from urllib.parse import urlsplit

from .._core.errors import ConfigError
from .local_models import LOCAL_MODEL_PATH_ENV, model_file
from .policy import (
    ENV_NAMES,
    PRESETS,
    SAMPLING_PARAMS,
    STATIC_MESSAGE_ENV,
    Api,
    Policy,
    Target,
    parse_tags,
)

__all__ = [
    "GLOBAL_VARIABLES",
    "PROVIDER_SETTINGS",
    "api_key_from_env",
    "checked_chain",
    "checked_embedding_chain",
    "config_from_env",
    "embedding_chain_from_env",
    "policy_from_env",
    "provider_prefix",
    "requirement_from_env",
    "resolve_target",
    "targets_from",
]

REDIS_URL_ENV = "FAILOVER_REDIS_URL"
REDIS_PREFIX_ENV = "FAILOVER_REDIS_PREFIX"
REQUIRE_ENV = "FAILOVER_REQUIRE"
EMBEDDING_CHAIN_ENV = "FAILOVER_EMBEDDING_CHAIN"
_INT_FIELDS = frozenset(
    {"max_retries", "breaker_fail_max", "breaker_min_calls", "default_max_tokens", "hedge_max"}
)
# Every variable the client reads, so that ``failover doctor`` can flag a misspelt one
# (the client itself ignores unknown names). A new setting is added here too.
GLOBAL_VARIABLES = frozenset(
    {
        "FAILOVER_CHAIN",
        STATIC_MESSAGE_ENV,
        REDIS_URL_ENV,
        REDIS_PREFIX_ENV,
        REQUIRE_ENV,
        EMBEDDING_CHAIN_ENV,
        LOCAL_MODEL_PATH_ENV,
        *ENV_NAMES.values(),
    }
)
PROVIDER_SETTINGS = ("API", "BASE_URL", "API_KEY", "TAGS")  # FAILOVER_PROVIDER_<NAME>_<SETTING>


# The accepted form, for the settings that are not whole numbers or seconds.
_FORMS = {
    "breaker_failure_ratio": "a ratio from 0 (off) to 1",
    "retry_budget": "a share of first attempts >= 0 (0.2: at most 20% more load), or off",
    "hedge_after": "a number of seconds > 0, or off",
}


def _parse_number(var: str, raw: str, integer: bool, form: str | None = None) -> float | int:
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
            values[name] = _parse_number(var, raw.strip(), name in _INT_FIELDS, _FORMS.get(name))
    start = base or Policy()
    merged = {f.name: values.get(f.name, getattr(start, f.name)) for f in fields(Policy)}
    return Policy(**merged)  # type: ignore[arg-type]


def provider_prefix(provider: str) -> str:
    return f"FAILOVER_PROVIDER_{provider.upper().replace('-', '_')}_"


def _is_http_url(url: str) -> bool:
    parts = urlsplit(url)
    return parts.scheme in ("http", "https") and bool(parts.hostname)


def api_key_from_env(provider: str, env: Mapping[str, str]) -> tuple[str | None, str | None]:
    """``(variable, key)`` for ``provider``: ``FAILOVER_PROVIDER_<NAME>_API_KEY`` first,
    then the vendor's own variable; ``(None, None)`` when neither is set."""
    preset = PRESETS.get(provider.lower())
    return _first_set(
        env, provider_prefix(provider) + "API_KEY", preset.key_env if preset else None
    )


def _first_set(env: Mapping[str, str], *names: str | None) -> tuple[str | None, str | None]:
    """``(variable, value)`` of the first of ``names`` that is set and not empty."""
    for name in names:
        if name and env.get(name):
            return name, env[name]
    return None, None


def resolve_target(
    spec: str, env: Mapping[str, str] | None = None, *, var: str = "chain"
) -> Target:
    """Turn ``provider/model`` into a :class:`Target`, reading keys and URLs from ``env``.

    The split is on the first ``/`` so ``openrouter/meta-llama/llama-3-70b`` works.
    ``azure/<deployment>=<model>`` names the model a deployment serves (``Target.serves``).
    ``local/<model>`` runs a model in this process (``FAILOVER_LOCAL_MODEL_PATH``, or a
    packaged model) unless ``FAILOVER_PROVIDER_LOCAL_API`` makes ``local`` the name of a
    server of one's own. A provider that is not built in is defined by
    ``FAILOVER_PROVIDER_<NAME>_API``, ``_BASE_URL`` and ``_API_KEY``; those variables also
    override a built-in's.
    """
    env = os.environ if env is None else env
    spec, _, serves = spec.strip().partition("=")  # azure/<deployment>=<model it serves>
    provider, sep, model = spec.strip().partition("/")
    if not sep or not provider or not model:
        raise ConfigError(
            f"{var}: item {spec!r} must have the form provider/model, e.g. openai/gpt-5.4-mini",
            variable=var,
        )
    if serves.strip():
        return replace(resolve_target(spec, env, var=var), serves=serves.strip())
    provider = provider.lower()
    if provider == "static":
        message = env.get(STATIC_MESSAGE_ENV, "")
        if not message.strip():
            raise ConfigError(
                f"{var}: {spec.strip()} answers with the text of {STATIC_MESSAGE_ENV}, which "
                "is not set; set it to what users should read when every provider is down",
                variable=STATIC_MESSAGE_ENV,
            )
        return Target.static(message, model)
    prefix = provider_prefix(provider)
    if provider == "local" and env.get(prefix + "API") is None:
        _no_server_settings(env, prefix)
        path = env.get(LOCAL_MODEL_PATH_ENV, "").strip() or None
        made = Target(
            provider, model, api="local", model_path=model_file(model, path, LOCAL_MODEL_PATH_ENV)
        )
        return _with_tags(made, env, prefix)
    preset = PRESETS.get(provider)
    api_raw = env.get(prefix + "API")
    if api_raw is not None:
        if api_raw not in ("openai", "anthropic"):
            raise ConfigError(
                f"{prefix}API must be 'openai' or 'anthropic', got {api_raw!r}",
                variable=prefix + "API",
            )
        api: Api = api_raw  # type: ignore[assignment]
    elif preset is not None:
        api = preset.api
    else:
        known = ", ".join(sorted([*PRESETS, "local", "static"]))
        raise ConfigError(
            f"{var}: unknown provider {provider!r} in {spec!r}; use one of {known}, "
            f"or define it with {prefix}API=openai|anthropic and {prefix}BASE_URL",
            variable=var,
        )
    url_var, base_url = _first_set(
        env, prefix + "BASE_URL", preset.base_url_env if preset else None
    )
    base_url = base_url or (preset.base_url if preset else None)
    _, api_key = api_key_from_env(provider, env)
    if preset is not None and preset.needs_key and not api_key:
        raise ConfigError(
            f"provider {provider!r} needs an API key: set {preset.key_env} (or {prefix}API_KEY)",
            variable=preset.key_env,
        )
    if base_url is None and preset is None:
        raise ConfigError(
            f"provider {provider!r} needs {prefix}BASE_URL (an http:// or https:// URL)",
            variable=prefix + "BASE_URL",
        )
    if base_url and url_var is not None and not _is_http_url(base_url):
        raise ConfigError(
            f"{url_var} must be an http:// or https:// URL with a host, got {base_url!r}",
            variable=url_var,
        )
    azure = bool(preset and preset.azure)
    api_version = env.get("OPENAI_API_VERSION") if azure else None
    if azure and not (base_url and api_version):
        missing = "AZURE_OPENAI_ENDPOINT" if not base_url else "OPENAI_API_VERSION"
        raise ConfigError(
            "provider 'azure' needs AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION (e.g. 2024-10-21)",
            variable=missing,
        )
    made = Target(
        provider,
        model,
        api=api,
        base_url=base_url,
        api_key=api_key,
        api_version=api_version,
        azure=azure,
    )
    return _with_tags(made, env, prefix)


def _no_server_settings(env: Mapping[str, str], prefix: str) -> None:
    """``local`` is the model in this process: a URL or key for it means the user named a
    server of their own ``local``, which works only once its API is said."""
    for setting in ("BASE_URL", "API_KEY"):
        if env.get(prefix + setting):
            raise ConfigError(
                f"{prefix}{setting} is set, but local/<model> is the model run in this "
                f"process (it has no URL or key); to call a server of your own named local, "
                f"also set {prefix}API=openai|anthropic, or give the server another name",
                variable=prefix + "API",
            )


def _with_tags(made: Target, env: Mapping[str, str], prefix: str) -> Target:
    tags = env.get(prefix + "TAGS")  # set, even empty, it replaces the default tags
    return made if tags is None else replace(made, tags=parse_tags(tags, prefix + "TAGS"))


def config_from_env(env: Mapping[str, str] | None = None) -> tuple[list[Target], Policy]:
    """Read ``FAILOVER_CHAIN`` and every policy knob; raise :class:`ConfigError` early."""
    env = os.environ if env is None else env
    chain = env.get("FAILOVER_CHAIN", "")
    items = [item for item in (part.strip() for part in chain.split(",")) if item]
    if not items:
        raise ConfigError(
            "FAILOVER_CHAIN is empty: set it to a comma-separated list of provider/model, "
            "e.g. FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5",
            variable="FAILOVER_CHAIN",
        )
    targets = [resolve_target(item, env, var="FAILOVER_CHAIN") for item in items]
    return checked_chain(targets, "FAILOVER_CHAIN"), policy_from_env(env)


def embedding_chain_from_env(env: Mapping[str, str] | None = None) -> list[Target] | None:
    """``FAILOVER_EMBEDDING_CHAIN``'s targets, checked to serve one model; None if unset."""
    env = os.environ if env is None else env
    items = [i.strip() for i in env.get(EMBEDDING_CHAIN_ENV, "").split(",") if i.strip()]
    if not items:
        return None
    targets = [resolve_target(item, env, var=EMBEDDING_CHAIN_ENV) for item in items]
    checked_embedding_chain(checked_chain(targets, EMBEDDING_CHAIN_ENV), EMBEDDING_CHAIN_ENV)
    return targets


def targets_from(
    chain: Sequence[Target | str], env: Mapping[str, str] | None = None
) -> list[Target]:
    """Accept Target objects and ``provider/model`` strings alike, in order."""
    if not chain:
        raise ConfigError("chain must contain at least one target", variable="chain")
    targets = [t if isinstance(t, Target) else resolve_target(t, env, var="chain") for t in chain]
    return checked_chain(targets, "chain")


def checked_chain(targets: list[Target], var: str) -> list[Target]:
    """Refuse a target named twice (it would silently become more retries of one target)
    and a static answer anywhere but at the end (the targets after it would never run)."""
    seen: set[tuple[str, str, str, str]] = set()
    for position, t in enumerate(targets):
        if t.degraded and position < len(targets) - 1:
            raise ConfigError(
                f"{var}: {t.label} is a static answer and may only end the chain; "
                f"move it to the end (the targets after it would never be tried)",
                variable=var,
            )
        if t.key in seen:
            raise ConfigError(
                f"{var} names {t.label} twice (the same provider, base URL, key and model); "
                "retries of one target come from FAILOVER_MAX_RETRIES, so list it once",
                variable=var,
            )
        seen.add(t.key)
    return targets


def requirement_from_env(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The tags ``FAILOVER_REQUIRE`` asks of every target a call may go to."""
    env = os.environ if env is None else env
    return parse_tags(env.get(REQUIRE_ENV, ""), REQUIRE_ENV)


def checked_embedding_chain(targets: Sequence[Target], var: str) -> None:
    """Refuse a chain that could mix vectors from two models, naming them."""
    for t in targets:
        if t.api != "openai":
            kinds = {"static": "a static answer", "local": "a model in this process"}
            what = kinds.get(t.api, f"an {t.api} target")
            raise ConfigError(
                f"{var}: {t.label} is {what}, which has no embeddings API; an embedding "
                "chain holds OpenAI-compatible targets (openai, azure, ollama, vllm, ...)",
                variable=var,
            )
    first = targets[0]
    for t in targets[1:]:
        if t.served_model != first.served_model:
            raise ConfigError(
                f"{var} mixes model {first.served_model!r} ({first.label}) with model "
                f"{t.served_model!r} ({t.label}): vectors of two models cannot share an "
                "index. List targets that serve one model; for an Azure deployment, say "
                "which model it serves: azure/<deployment>=<model>",
                variable=var,
            )
