"""Targets, policy, and reading both from the environment.

A :class:`Target` is one provider + model (+ base URL and key). A :class:`Policy`
holds the retry, deadline and breaker knobs. :func:`config_from_env` builds both from
``FAILOVER_*`` and the vendors' standard variables, and raises :class:`ConfigError`
naming the variable for anything it cannot use, before any request is sent.
"""

from __future__ import annotations

import hashlib
import math
import os
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field, fields
from typing import Literal
from urllib.parse import urlsplit

from ._exceptions import ConfigError

__all__ = [
    "PRESETS",
    "STATIC_MESSAGE_ENV",
    "Policy",
    "Preset",
    "Target",
    "config_from_env",
    "resolve_target",
]

Api = Literal["openai", "anthropic", "static"]
STATIC_MESSAGE_ENV = "FAILOVER_STATIC_MESSAGE"


@dataclass(frozen=True, slots=True)
class Preset:
    """How a named provider is reached: its wire protocol, key variable and URL."""

    api: Api
    key_env: str | None
    base_url: str | None = None  # None: the vendor SDK's own default
    base_url_env: str | None = None
    needs_key: bool = True
    azure: bool = False


PRESETS: Mapping[str, Preset] = {
    "openai": Preset("openai", "OPENAI_API_KEY", base_url_env="OPENAI_BASE_URL"),
    "anthropic": Preset("anthropic", "ANTHROPIC_API_KEY", base_url_env="ANTHROPIC_BASE_URL"),
    "azure": Preset(
        "openai", "AZURE_OPENAI_API_KEY", base_url_env="AZURE_OPENAI_ENDPOINT", azure=True
    ),
    "ollama": Preset("openai", None, "http://localhost:11434/v1", needs_key=False),
    "vllm": Preset("openai", "VLLM_API_KEY", "http://localhost:8000/v1", needs_key=False),
    "groq": Preset("openai", "GROQ_API_KEY", "https://api.groq.com/openai/v1"),
    "together": Preset("openai", "TOGETHER_API_KEY", "https://api.together.xyz/v1"),
    "deepseek": Preset("openai", "DEEPSEEK_API_KEY", "https://api.deepseek.com/v1"),
    "mistral": Preset("openai", "MISTRAL_API_KEY", "https://api.mistral.ai/v1"),
    "openrouter": Preset("openai", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1"),
    "gemini": Preset(
        "openai", "GEMINI_API_KEY", "https://generativelanguage.googleapis.com/v1beta/openai/"
    ),
}


# Where the vendor SDKs send a request when no base URL is given: a target without one
# and a target that spells the default out are the same target.
_SDK_DEFAULT_URLS: Mapping[str, str] = {
    "openai": "https://api.openai.com/v1",
    "anthropic": "https://api.anthropic.com",
}


@dataclass(frozen=True, slots=True)
class Target:
    """One place an answer can come from: ``provider/model`` at a base URL.

    >>> Target("anthropic", "claude-sonnet-4-5", api="anthropic", api_key="...")
    Target('anthropic/claude-sonnet-4-5', api='anthropic', base_url=None)

    The key never appears in the repr. ``api_version`` is only used by Azure. ``name``
    labels the target in attempt logs (default ``provider/model``). A last resort that
    answers with a fixed text is made with :meth:`Target.static`.
    """

    provider: str
    model: str
    api: Api = "openai"
    base_url: str | None = None
    api_key: str | None = field(default=None, repr=False)
    api_version: str | None = None
    azure: bool = False
    name: str | None = None
    static_message: str | None = field(default=None, repr=False)
    # Computed once: the key is read several times per request.
    _key: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        if self.api not in ("openai", "anthropic", "static"):
            raise ConfigError(
                f"Target.api must be 'openai', 'anthropic' or 'static', got {self.api!r}",
                variable="api",
            )
        if not self.provider or not self.model:
            raise ConfigError("Target needs a non-empty provider and model", variable="model")
        if self.api == "static" and not (self.static_message or "").strip():
            raise ConfigError(
                "a static target needs a message: Target.static('...')", variable="message"
            )
        fingerprint = hashlib.sha256(self.api_key.encode()).hexdigest()[:16] if self.api_key else ""
        url = (self.base_url or _SDK_DEFAULT_URLS.get(self.api, "")).rstrip("/")
        object.__setattr__(self, "_key", (self.provider, url, self.model, fingerprint))

    @classmethod
    def static(cls, message: str, name: str = "default") -> Target:
        """A last resort that answers ``message`` without any network: ``static/<name>``.

        >>> Failover(["openai/gpt-4o-mini", Target.static("We are busy; try again soon.")])

        It may only end a chain. Its answers are ordinary ``ChatCompletion`` objects
        (finish reason ``stop``, zero usage), marked degraded in the attempt log.
        """
        return cls("static", name, api="static", static_message=message)

    @property
    def degraded(self) -> bool:
        """True for a static last resort: its answer is a fixed text, not a model's."""
        return self.api == "static"

    @property
    def label(self) -> str:
        """``name`` if given, else ``provider/model``: the name used in attempt logs."""
        return self.name or f"{self.provider}/{self.model}"

    @property
    def key(self) -> tuple[str, str, str, str]:
        """Identity for clients, breakers and cool-downs: provider, base URL, model, and a
        fingerprint of the key, so that two keys for one model (say, two organisations'
        quotas) are two targets. The fingerprint is a hash; the key itself never leaves."""
        return self._key

    def __repr__(self) -> str:
        return f"Target({self.label!r}, api={self.api!r}, base_url={self.base_url!r})"


@dataclass(frozen=True, slots=True)
class Policy:
    """Retry, deadline and breaker settings; each has a ``FAILOVER_*`` variable.

    Defaults follow the vendor SDKs and the reference designs in FACTS.md: 2 retries
    per target, full-jitter backoff from 0.5 s capped at 8 s (the SDKs' own), a breaker
    that opens after 5 consecutive failures for 30 s (Envoy's outlier detection).
    """

    max_retries: int = 2
    backoff_base: float = 0.5
    backoff_max: float = 8.0
    timeout: float = 120.0
    attempt_timeout: float = 60.0
    connect_timeout: float = 5.0
    breaker_fail_max: int = 5
    breaker_reset: float = 30.0
    first_token_timeout: float = 20.0
    stream_idle_timeout: float = 30.0
    stream_resume: bool = False
    default_max_tokens: int = 4096

    def __post_init__(self) -> None:
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool):
                continue
            env = ENV_NAMES.get(f.name, f.name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ConfigError(f"{env} must be a number >= 0, got {value!r}", variable=env)
        if self.breaker_fail_max < 1:
            raise ConfigError(
                f"FAILOVER_BREAKER_FAIL_MAX must be >= 1, got {self.breaker_fail_max}",
                variable="FAILOVER_BREAKER_FAIL_MAX",
            )
        for name in (
            "timeout",
            "attempt_timeout",
            "connect_timeout",
            "first_token_timeout",
            "stream_idle_timeout",
        ):
            if getattr(self, name) == 0:
                var = ENV_NAMES[name]
                raise ConfigError(f"{var} must be > 0 seconds", variable=var)


ENV_NAMES: Mapping[str, str] = {
    "max_retries": "FAILOVER_MAX_RETRIES",
    "backoff_base": "FAILOVER_BACKOFF_BASE",
    "backoff_max": "FAILOVER_BACKOFF_MAX",
    "timeout": "FAILOVER_TIMEOUT",
    "attempt_timeout": "FAILOVER_ATTEMPT_TIMEOUT",
    "connect_timeout": "FAILOVER_CONNECT_TIMEOUT",
    "breaker_fail_max": "FAILOVER_BREAKER_FAIL_MAX",
    "breaker_reset": "FAILOVER_BREAKER_RESET",
    "first_token_timeout": "FAILOVER_FIRST_TOKEN_TIMEOUT",
    "stream_idle_timeout": "FAILOVER_STREAM_IDLE_TIMEOUT",
    "stream_resume": "FAILOVER_STREAM_RESUME",
    "default_max_tokens": "FAILOVER_DEFAULT_MAX_TOKENS",
}
_INT_FIELDS = frozenset({"max_retries", "breaker_fail_max", "default_max_tokens"})
# Every variable the client reads, so that ``failover doctor`` can flag a misspelt one
# (the client itself ignores unknown names). A new setting is added here too.
GLOBAL_VARIABLES = frozenset(
    {
        "FAILOVER_CHAIN",
        STATIC_MESSAGE_ENV,
        "FAILOVER_REDIS_URL",
        "FAILOVER_REDIS_PREFIX",
        *ENV_NAMES.values(),
    }
)
PROVIDER_SETTINGS = ("API", "BASE_URL", "API_KEY")  # FAILOVER_PROVIDER_<NAME>_<SETTING>


def _parse_number(var: str, raw: str, integer: bool) -> float | int:
    form = "a whole number >= 0" if integer else "a number of seconds >= 0"
    try:
        value: float | int = int(raw) if integer else float(raw)
    except ValueError:
        raise ConfigError(f"{var} must be {form}, got {raw!r}", variable=var) from None
    if not math.isfinite(value) or value < 0:
        raise ConfigError(f"{var} must be {form}, got {raw!r}", variable=var)
    return value


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
        else:
            values[name] = _parse_number(var, raw.strip(), name in _INT_FIELDS)
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
    A provider that is not built in is defined by ``FAILOVER_PROVIDER_<NAME>_API``,
    ``_BASE_URL`` and ``_API_KEY``; those variables also override a built-in's.
    """
    env = os.environ if env is None else env
    provider, sep, model = spec.strip().partition("/")
    if not sep or not provider or not model:
        raise ConfigError(
            f"{var}: item {spec!r} must have the form provider/model, e.g. openai/gpt-4o-mini",
            variable=var,
        )
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
        known = ", ".join(sorted(PRESETS))
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
    return Target(
        provider,
        model,
        api=api,
        base_url=base_url,
        api_key=api_key,
        api_version=api_version,
        azure=azure,
    )


def config_from_env(env: Mapping[str, str] | None = None) -> tuple[list[Target], Policy]:
    """Read ``FAILOVER_CHAIN`` and every policy knob; raise :class:`ConfigError` early."""
    env = os.environ if env is None else env
    chain = env.get("FAILOVER_CHAIN", "")
    items = [item for item in (part.strip() for part in chain.split(",")) if item]
    if not items:
        raise ConfigError(
            "FAILOVER_CHAIN is empty: set it to a comma-separated list of provider/model, "
            "e.g. FAILOVER_CHAIN=openai/gpt-4o-mini,anthropic/claude-haiku-4-5",
            variable="FAILOVER_CHAIN",
        )
    targets = [resolve_target(item, env, var="FAILOVER_CHAIN") for item in items]
    return checked_chain(targets, "FAILOVER_CHAIN"), policy_from_env(env)


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
