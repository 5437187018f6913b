"""Reading the chain and the policy from the environment.

:func:`config_from_env` builds the chain and the policy from ``FAILOVER_*`` and the
vendors' standard variables, and raises :class:`ConfigError` naming the variable for
anything it cannot use, before any request is sent; the policy's knobs are read by
``env_policy.py``, the clouds' settings by ``env_clouds.py``. (Where breakers live,
``FAILOVER_REDIS_URL``, is the client's choice: ``_client.py``'s ``health_from_env``.)
"""

from __future__ import annotations

import os
from collections.abc import Mapping, Sequence
from dataclasses import replace
from urllib.parse import urlsplit

from .._core.errors import ConfigError
from .chains import Chain, Group, Groups, checked_chain, checked_embedding_chain, flat, grouped
from .env_clouds import cloud_place
from .env_policy import parse_number, policy_from_env
from .local_models import LOCAL_MODEL_PATH_ENV, model_file
from .policy import (
    ENV_NAMES,
    PRESETS,
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
    "chain_from_env",
    "config_from_env",
    "embedding_chain_from_env",
    "groups_from",
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
# Every variable the client reads, so that ``failover doctor`` can flag a misspelt one
# (the client itself ignores unknown names). A new setting is added here too.
GLOBAL_VARIABLES = frozenset(
    {
        "FAILOVER_CHAIN",
        STATIC_MESSAGE_ENV,
        REDIS_URL_ENV,
        REDIS_PREFIX_ENV,
        "FAILOVER_REDIS_CLUSTER",
        "FAILOVER_REDIS_SENTINELS",
        "FAILOVER_REDIS_SENTINEL_MASTER",
        "FAILOVER_REDIS_TIMEOUT",
        REQUIRE_ENV,
        EMBEDDING_CHAIN_ENV,
        LOCAL_MODEL_PATH_ENV,
        *ENV_NAMES.values(),
    }
)
PROVIDER_SETTINGS = (
    "API",
    "BASE_URL",
    "API_KEY",
    "TAGS",
    "WEIGHT",
    "REGION",
    "PROJECT",
    "RESPONSES",
)  # FAILOVER_PROVIDER_<NAME>_<SETTING>


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
    if provider == "local" and not env.get(prefix + "API", "").strip():
        _no_server_settings(env, prefix)
        path = env.get(LOCAL_MODEL_PATH_ENV, "").strip() or None
        made = Target(
            provider, model, api="local", model_path=model_file(model, path, LOCAL_MODEL_PATH_ENV)
        )
        return _with_settings(made, env, prefix)
    preset = PRESETS.get(provider)
    api_raw = env.get(prefix + "API")
    if api_raw is not None:
        if api_raw not in ("openai", "anthropic", "bedrock", "vertex"):
            raise ConfigError(
                f"{prefix}API must be 'openai', 'anthropic', 'bedrock' or 'vertex', got "
                f"{api_raw!r}",
                variable=prefix + "API",
            )
        api: Api = api_raw  # type: ignore[assignment]
    elif preset is not None:
        api = preset.api
    else:
        known = ", ".join(sorted([*PRESETS, "local", "static"]))
        raise ConfigError(
            f"{var}: unknown provider {provider!r} in {spec!r}; use one of {known}, "
            f"or define it with {prefix}API=openai|anthropic|bedrock|vertex (and, for the "
            f"first two, {prefix}BASE_URL)",
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
    region, project = cloud_place(api, provider, prefix, env, api_key)
    if base_url is None and preset is None and region is None:
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
        region=region,
        project=project,
    )
    return _with_settings(made, env, prefix)


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


def _with_settings(made: Target, env: Mapping[str, str], prefix: str) -> Target:
    """The provider's ``_TAGS``, ``_RESPONSES`` and ``_WEIGHT``, where set."""
    tags = env.get(prefix + "TAGS")  # set, even empty, it replaces the default tags
    if tags is not None:
        made = replace(made, tags=parse_tags(tags, prefix + "TAGS"))
    how = env.get(prefix + "RESPONSES", "").strip().lower()
    if how not in ("", "native", "chat"):
        raise ConfigError(
            f"{prefix}RESPONSES must be native or chat, got {how!r}", variable=prefix + "RESPONSES"
        )
    if how == "native" and made.api != "openai":
        raise ConfigError(
            f"{prefix}RESPONSES=native needs an OpenAI-compatible provider; {made.api} "
            "targets answer Responses calls through chat",
            variable=prefix + "RESPONSES",
        )
    if how:
        made = replace(made, responses="native" if how == "native" else "chat")
    raw = env.get(prefix + "WEIGHT", "").strip()
    if not raw:
        return made
    weight = parse_number(prefix + "WEIGHT", raw, False, "a number > 0")
    if weight == 0:
        raise ConfigError(
            f"{prefix}WEIGHT must be a number > 0, got {raw!r}", variable=prefix + "WEIGHT"
        )
    return replace(made, weight=weight)


def chain_from_env(env: Mapping[str, str] | None = None) -> tuple[Groups, Policy]:
    """Read ``FAILOVER_CHAIN`` (``|`` joins a group) and every policy knob; raise
    :class:`ConfigError` early."""
    env = os.environ if env is None else env
    chain = env.get("FAILOVER_CHAIN", "")
    items = [item for item in (part.strip() for part in chain.split(",")) if item]
    if not items:
        raise ConfigError(
            "FAILOVER_CHAIN is empty: set it to a comma-separated list of provider/model, "
            "e.g. FAILOVER_CHAIN=openai/gpt-5.4-mini,anthropic/claude-haiku-5-5",
            variable="FAILOVER_CHAIN",
        )
    parts = [[m.strip() for m in item.split("|")] for item in items]
    for item, members in zip(items, parts, strict=True):
        if not all(members):
            raise ConfigError(
                f"FAILOVER_CHAIN: {item!r} has an empty place beside a '|'; a group is "
                "provider/model items joined by '|'",
                variable="FAILOVER_CHAIN",
            )
    return groups_from(
        [Group(*m) if len(m) > 1 else m[0] for m in parts], env, var="FAILOVER_CHAIN"
    ), policy_from_env(env)


def config_from_env(env: Mapping[str, str] | None = None) -> tuple[list[Target], Policy]:
    """The chain's targets in order, groups flattened, and the policy."""
    groups, policy = chain_from_env(env)
    return flat(groups), policy


def embedding_chain_from_env(env: Mapping[str, str] | None = None) -> list[Target] | None:
    """``FAILOVER_EMBEDDING_CHAIN``'s targets, checked to serve one model; None if unset."""
    env = os.environ if env is None else env
    items = [i.strip() for i in env.get(EMBEDDING_CHAIN_ENV, "").split(",") if i.strip()]
    if not items:
        return None
    if any("|" in item for item in items):
        raise ConfigError(
            f"{EMBEDDING_CHAIN_ENV} has no groups ('|'): it is tried in order, one model on "
            "every target",
            variable=EMBEDDING_CHAIN_ENV,
        )
    targets = [resolve_target(item, env, var=EMBEDDING_CHAIN_ENV) for item in items]
    checked_embedding_chain(checked_chain(targets, EMBEDDING_CHAIN_ENV), EMBEDDING_CHAIN_ENV)
    return targets


def groups_from(chain: Chain, env: Mapping[str, str] | None = None, var: str = "chain") -> Groups:
    """Accept Target objects, ``provider/model`` strings and :class:`Group`s, in order."""
    if not chain:
        raise ConfigError(f"{var} must contain at least one target", variable=var)
    groups = grouped(chain, lambda spec: resolve_target(spec, env, var=var), var)
    checked_chain(flat(groups), var)
    return groups


def targets_from(
    chain: Sequence[Target | str], env: Mapping[str, str] | None = None, var: str = "chain"
) -> list[Target]:
    """A chain without groups (an embedding chain's): Targets and strings, in order."""
    if any(isinstance(item, Group) for item in chain):
        raise ConfigError(
            f"{var} takes no Group: an embedding chain is tried in order, one model on "
            "every target",
            variable=var,
        )
    return flat(groups_from(chain, env, var))


def requirement_from_env(env: Mapping[str, str] | None = None) -> frozenset[str]:
    """The tags ``FAILOVER_REQUIRE`` asks of every target a call may go to."""
    env = os.environ if env is None else env
    return parse_tags(env.get(REQUIRE_ENV, ""), REQUIRE_ENV)
