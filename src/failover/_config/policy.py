"""Targets and policy: what a chain is made of, and the knobs that govern it.

A :class:`Target` is one provider + model (+ base URL and key). A :class:`Policy`
holds the retry, deadline and breaker knobs. Reading both from ``FAILOVER_*`` and the
vendors' own variables is ``_config/env.py``'s work.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Collection, Mapping
from dataclasses import dataclass, field, fields
from typing import Literal

from .._core.errors import ConfigError
from .providers import (
    CLAUDE_APIS,
    PRESETS,
    Api,
    Preset,
    check_cloud,
    default_url,
    self_hosted_on_loopback,
)

__all__ = [
    "CLAUDE_APIS",
    "ENV_NAMES",
    "PRESETS",
    "SAMPLING_PARAMS",
    "STATIC_MESSAGE_ENV",
    "Api",
    "Policy",
    "Preset",
    "Target",
    "clean_tags",
    "parse_tags",
]

STATIC_MESSAGE_ENV = "FAILOVER_STATIC_MESSAGE"


class _Auto(frozenset[str]):
    """The default of ``Target.tags``: told apart from an explicit empty list."""


_AUTO = _Auto()


@dataclass(frozen=True, slots=True)
class Target:
    """One place an answer can come from: ``provider/model`` at a base URL.

    >>> Target("anthropic", "claude-sonnet-5-5", api="anthropic", api_key="...")
    Target('anthropic/claude-sonnet-5-5', api='anthropic', base_url=None)

    The key never appears in the repr. ``api_version`` is only used by Azure. ``name``
    labels the target in attempt logs (default ``provider/model``). A last resort that
    answers with a fixed text is made with :meth:`Target.static`.

    ``serves`` names the model behind a deployment whose name is not the model's (Azure's
    deployments): embedding chains compare it, since vectors of two models do not mix.

    A model run inside this process by llama.cpp is made with :meth:`Target.local`;
    ``model_path`` is its GGUF file.

    ``region`` (Bedrock and Vertex AI, which need one) and ``project`` (Vertex AI; left
    out, Google's credentials name it) say where a cloud target runs.

    ``tags`` are what the operator vouches for about where a request to this target goes
    (``zdr``, ``local``, ``region:eu``, ``hipaa``...); calls that require tags go only to
    targets that carry them all. Tags are lower-cased. Left out, an ollama or vllm
    target whose base URL is on this machine (loopback) is tagged ``local``; any other
    target has none. Given, even empty, they replace that default.

    ``weight`` is the target's share of calls when it is one of a :class:`Group`.

    ``responses`` says how ``client.responses`` reaches an OpenAI-compatible target:
    ``"native"`` (it serves ``/v1/responses``) or ``"chat"`` (converted to a chat call).
    Left out, OpenAI, Azure OpenAI, Ollama, vLLM and OpenRouter are native and any other
    is chat; a target of another API is always converted.
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
    tags: Collection[str] = field(default_factory=lambda: _AUTO)  # stored as a frozenset
    serves: str | None = None
    model_path: str | None = None
    weight: float = 1.0  # its share of a group's calls (``_config/chains.py``)
    region: str | None = None
    project: str | None = None
    responses: Literal["native", "chat"] | None = None
    # Computed once, in __post_init__, since every request reads them several times.
    # ``label``: ``name`` if given, else ``provider/model``; the name in attempt logs.
    label: str = field(init=False, repr=False, compare=False)
    # ``key``: the identity for clients, breakers and cool-downs: provider, base URL,
    # model, and a fingerprint of the API key, so that two keys for one model (say, two
    # organisations' quotas) are two targets. A hash: the key itself never leaves.
    key: tuple[str, str, str, str] = field(init=False, repr=False, compare=False)
    # ``in_process``: a model run inside this process (:meth:`local`), not over a network.
    in_process: bool = field(init=False, repr=False, compare=False)
    # ``degraded``: a static last resort, whose answer is a fixed text, not a model's.
    degraded: bool = field(init=False, repr=False, compare=False)
    # ``native_responses``: ``client.responses`` calls reach it as Responses calls.
    native_responses: bool = field(init=False, repr=False, compare=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "in_process", self.api == "local")
        object.__setattr__(self, "degraded", self.api == "static")
        if self.api not in ("openai", "static", "local", *CLAUDE_APIS):
            raise ConfigError(
                "Target.api must be 'openai', 'anthropic', 'bedrock', 'vertex', 'static' or "
                f"'local', got {self.api!r}",
                variable="api",
            )
        check_cloud(self.api, self.region, self.project)
        if (self.api == "local") != bool(self.model_path):
            raise ConfigError(
                "a model in this process is made with Target.local(model, path=...), and only "
                "it has a model_path",
                variable="model_path",
            )
        if isinstance(self.weight, bool) or not (
            isinstance(self.weight, int | float) and 0 < self.weight < math.inf
        ):
            raise ConfigError(
                f"Target.weight must be a number > 0, got {self.weight!r}", variable="weight"
            )
        if not self.provider or not self.model:
            raise ConfigError("Target needs a non-empty provider and model", variable="model")
        if self.api == "static" and not (self.static_message or "").strip():
            raise ConfigError(
                "a static target needs a message: Target.static('...')", variable="message"
            )
        if self.tags is _AUTO:
            local = self.api == "local" or self_hosted_on_loopback(self.provider, self.base_url)
            object.__setattr__(self, "tags", frozenset({"local"} if local else ()))
        else:
            object.__setattr__(self, "tags", clean_tags(self.tags, "tags"))
        fingerprint = hashlib.sha256(self.api_key.encode()).hexdigest()[:16] if self.api_key else ""
        where = self.model_path or self.base_url or default_url(self.api, self.region, self.project)
        url = where.rstrip("/")
        object.__setattr__(self, "key", (self.provider, url, self.model, fingerprint))
        object.__setattr__(self, "label", self.name or f"{self.provider}/{self.model}")
        object.__setattr__(self, "native_responses", self._responses_natively())

    def _responses_natively(self) -> bool:
        if self.responses not in (None, "native", "chat"):
            raise ConfigError(
                f"Target.responses must be 'native' or 'chat', got {self.responses!r}",
                variable="responses",
            )
        if self.responses == "native" and self.api != "openai":
            raise ConfigError(
                f"{self.label}: responses='native' needs an OpenAI-compatible target; "
                f"{self.api} targets answer Responses calls through chat",
                variable="responses",
            )
        if self.responses is not None:
            return self.responses == "native"
        preset = PRESETS.get(self.provider)
        return self.api == "openai" and (self.azure or (preset is not None and preset.responses))

    @classmethod
    def static(cls, message: str, name: str = "default") -> Target:
        """A last resort that answers ``message`` without any network: ``static/<name>``.

        >>> Failover(["openai/gpt-5.4-mini", Target.static("We are busy; try again soon.")])

        It may only end a chain. Its answers are ordinary ``ChatCompletion`` objects
        (finish reason ``stop``, zero usage), marked degraded in the attempt log.
        """
        return cls("static", name, api="static", static_message=message)

    @classmethod
    def local(
        cls, model: str = "smollm2", path: str | None = None, name: str | None = None
    ) -> Target:
        """A model run in this process by llama.cpp (the extra ``failover[local]``):
        ``local/<model>``.

        >>> Failover(["openai/gpt-5.4-mini", Target.local()])  # the packaged SmolLM2-135M

        Without ``path`` the model must be packaged (``smollm2``); with it, any GGUF file.
        The file is checked now (a ConfigError naming ``path``) and the model is loaded
        when a client is built. It is tagged ``local`` unless given other tags.
        """
        from .local_models import model_file

        path = model_file(model, path, "path")
        return cls("local", model, api="local", name=name, model_path=path)

    @property
    def served_model(self) -> str:
        """The model this target runs: ``serves`` if given, else ``model``."""
        return self.serves or self.model

    def missing(self, required: frozenset[str]) -> list[str]:
        """The required tags this target lacks. None for a static last resort: its fixed
        text sends the request nowhere, so it may answer any call."""
        if self.degraded:
            return []
        return sorted(required.difference(self.tags))

    def __repr__(self) -> str:
        if self.in_process:
            return f"Target({self.label!r}, api='local', model_path={self.model_path!r})"
        if self.region is not None:
            return f"Target({self.label!r}, api={self.api!r}, region={self.region!r})"
        return f"Target({self.label!r}, api={self.api!r}, base_url={self.base_url!r})"


def clean_tags(values: Collection[str], variable: str) -> frozenset[str]:
    """Lower-cased tags; a ConfigError naming ``variable`` for an empty or spaced one."""
    if isinstance(values, str):  # "zdr" would otherwise become {"z", "d", "r"}
        raise ConfigError(f"{variable} must be a list of tags, not a string", variable=variable)
    tags = set()
    for tag in values:
        cleaned = tag.strip().lower() if isinstance(tag, str) else ""
        if not cleaned or any(c.isspace() or c == "," for c in cleaned):
            raise ConfigError(
                f"{variable}: {tag!r} is not a tag (a word such as zdr, local or region:eu, "
                "without spaces or commas)",
                variable=variable,
            )
        tags.add(cleaned)
    return frozenset(tags)


def parse_tags(raw: str, variable: str) -> frozenset[str]:
    """Comma-separated tags, as ``FAILOVER_REQUIRE`` and ``..._TAGS`` hold them."""
    return clean_tags([part for part in (p.strip() for p in raw.split(",")) if part], variable)


_OPTIONAL = frozenset({"retry_budget", "hedge_after", "balance_seed"})  # None: off
# Parameters that only nudge how an answer is drawn (``_routing/param_policy.py``).
SAMPLING_PARAMS = frozenset(
    {"seed", "frequency_penalty", "presence_penalty", "logit_bias", "service_tier"}
)


@dataclass(frozen=True, slots=True)
class Policy:
    """Retry, deadline and breaker settings; each has a ``FAILOVER_*`` variable.

    Defaults follow the vendor SDKs and the reference designs in FACTS.md: 2 retries
    per target, full-jitter backoff from 0.5 s capped at 8 s (the SDKs' own), a breaker
    that opens after 5 consecutive failures for 30 s (Envoy's outlier detection), or when
    half of at least 20 calls in 30 s failed (Polly, resilience4j; ratio 0 turns that
    off), and retries that may add at most 20% to a target's load (Finagle, gRPC;
    ``retry_budget=None`` turns the budget off). Hedging is off unless ``hedge_after``
    (seconds) is set; ``hedge_max`` caps the hedges of one call. ``drop_params`` names
    the sampling-only parameters a target that lacks them may go without (all of them by
    default; ``_routing/param_policy.py``). ``balance_seed`` makes the choice among a
    group's targets repeatable.
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
    # Added after the first release: at the end, so that positional use keeps working.
    breaker_window: float = 30.0
    breaker_min_calls: int = 20
    breaker_failure_ratio: float = 0.5
    retry_budget: float | None = 0.2
    hedge_after: float | None = None
    hedge_max: int = 1
    drop_params: Collection[str] = SAMPLING_PARAMS  # kept as a frozenset
    balance_seed: int | None = None  # seeds the choice within groups (tests)

    def __post_init__(self) -> None:
        # Any collection of names will do (a list from JSON, say); kept as a frozenset.
        drop = frozenset(self.drop_params)
        if not drop <= SAMPLING_PARAMS:
            var = ENV_NAMES["drop_params"]
            raise ConfigError(
                f"{var} may only name sampling parameters "
                f"({', '.join(sorted(SAMPLING_PARAMS))}), got {sorted(drop - SAMPLING_PARAMS)}",
                variable=var,
            )
        object.__setattr__(self, "drop_params", drop)
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, bool | frozenset) or (f.name in _OPTIONAL and value is None):
                continue
            env = ENV_NAMES.get(f.name, f.name)
            if not isinstance(value, int | float) or math.isnan(value) or value < 0:
                raise ConfigError(f"{env} must be a number >= 0, got {value!r}", variable=env)
        for name in ("breaker_fail_max", "breaker_min_calls"):
            if getattr(self, name) < 1:
                var = ENV_NAMES[name]
                raise ConfigError(f"{var} must be >= 1, got {getattr(self, name)}", variable=var)
        if self.breaker_failure_ratio > 1:
            var = ENV_NAMES["breaker_failure_ratio"]
            raise ConfigError(
                f"{var} must be between 0 (off) and 1, got {self.breaker_failure_ratio}",
                variable=var,
            )
        for name in (
            "timeout",
            "attempt_timeout",
            "connect_timeout",
            "first_token_timeout",
            "stream_idle_timeout",
            "breaker_window",
            "hedge_after",
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
    "breaker_window": "FAILOVER_BREAKER_WINDOW",
    "breaker_min_calls": "FAILOVER_BREAKER_MIN_CALLS",
    "breaker_failure_ratio": "FAILOVER_BREAKER_FAILURE_RATIO",
    "retry_budget": "FAILOVER_RETRY_BUDGET",
    "hedge_after": "FAILOVER_HEDGE_AFTER",
    "hedge_max": "FAILOVER_HEDGE_MAX",
    "drop_params": "FAILOVER_DROP_PARAMS",
    "first_token_timeout": "FAILOVER_FIRST_TOKEN_TIMEOUT",
    "stream_idle_timeout": "FAILOVER_STREAM_IDLE_TIMEOUT",
    "stream_resume": "FAILOVER_STREAM_RESUME",
    "default_max_tokens": "FAILOVER_DEFAULT_MAX_TOKENS",
    "balance_seed": "FAILOVER_BALANCE_SEED",
}
