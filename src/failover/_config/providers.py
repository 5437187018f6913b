"""The providers failover knows by name, and where their SDKs send requests: what a
target's provider and API imply before any key or URL is read (``_config/env.py`` reads
those; ``_config/policy.py`` makes the :class:`~failover.Target`)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Literal
from urllib.parse import urlsplit

from .._core.errors import ConfigError

__all__ = [
    "CLAUDE_APIS",
    "PRESETS",
    "Api",
    "Preset",
    "check_cloud",
    "default_url",
    "self_hosted_on_loopback",
]

Api = Literal["openai", "anthropic", "bedrock", "vertex", "static", "local"]
# The APIs that speak Anthropic's Messages API: Anthropic's own, and Claude on AWS
# Bedrock and Google Vertex AI (one conversion, three ways to reach it).
CLAUDE_APIS = frozenset({"anthropic", "bedrock", "vertex"})


@dataclass(frozen=True, slots=True)
class Preset:
    """How a named provider is reached: its wire protocol, key variable and URL."""

    api: Api
    key_env: str | None
    base_url: str | None = None  # None: the vendor SDK's own default
    base_url_env: str | None = None
    needs_key: bool = True
    azure: bool = False
    self_hosted: bool = False  # a server one runs oneself: tagged ``local`` on loopback
    responses: bool = False  # it serves ``/v1/responses`` (else Responses go as chat)


PRESETS: Mapping[str, Preset] = {
    "openai": Preset("openai", "OPENAI_API_KEY", base_url_env="OPENAI_BASE_URL", responses=True),
    "anthropic": Preset("anthropic", "ANTHROPIC_API_KEY", base_url_env="ANTHROPIC_BASE_URL"),
    # Without a key (a Bedrock bearer token, a Vertex access token), the cloud's own
    # credentials: AWS's chain (SigV4), Google's Application Default Credentials.
    "bedrock": Preset(
        "bedrock",
        "AWS_BEARER_TOKEN_BEDROCK",
        base_url_env="ANTHROPIC_BEDROCK_BASE_URL",
        needs_key=False,
    ),
    "vertex": Preset("vertex", None, base_url_env="ANTHROPIC_VERTEX_BASE_URL", needs_key=False),
    "azure": Preset(
        "openai",
        "AZURE_OPENAI_API_KEY",
        base_url_env="AZURE_OPENAI_ENDPOINT",
        azure=True,
        responses=True,
    ),
    # Ollama from 0.13.3 and vLLM serve the Responses API too (statelessly).
    "ollama": Preset(
        "openai",
        None,
        "http://localhost:11434/v1",
        needs_key=False,
        self_hosted=True,
        responses=True,
    ),
    "vllm": Preset(
        "openai",
        "VLLM_API_KEY",
        "http://localhost:8000/v1",
        needs_key=False,
        self_hosted=True,
        responses=True,
    ),
    "groq": Preset("openai", "GROQ_API_KEY", "https://api.groq.com/openai/v1"),
    "together": Preset("openai", "TOGETHER_API_KEY", "https://api.together.xyz/v1"),
    "deepseek": Preset("openai", "DEEPSEEK_API_KEY", "https://api.deepseek.com/v1"),
    "mistral": Preset("openai", "MISTRAL_API_KEY", "https://api.mistral.ai/v1"),
    "openrouter": Preset(
        "openai", "OPENROUTER_API_KEY", "https://openrouter.ai/api/v1", responses=True
    ),
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


def default_url(api: str, region: str | None = None, project: str | None = None) -> str:
    """Where the vendor SDK sends a target's requests when it has no base URL (a cloud's
    depends on the region, and for Vertex AI on the project too)."""
    if api == "bedrock":
        return f"https://bedrock-runtime.{region}.amazonaws.com"
    if api == "vertex":
        host = "aiplatform" if region == "global" else f"{region}-aiplatform"
        host += ".googleapis.com"
        return f"https://{host}/v1/projects/{project or ''}"
    return _SDK_DEFAULT_URLS.get(api, "")


def check_cloud(api: str, region: str | None, project: str | None) -> None:
    if api in ("bedrock", "vertex") and not (region or "").strip():
        cloud = "AWS Bedrock" if api == "bedrock" else "Vertex AI"
        raise ConfigError(f"a {cloud} target needs a region", variable="region")
    if region is not None and api not in ("bedrock", "vertex"):
        raise ConfigError(
            f"only bedrock and vertex targets have a region, not {api!r} ones", variable="region"
        )
    if project is not None and api != "vertex":
        raise ConfigError(
            f"only vertex targets have a project, not {api!r} ones", variable="project"
        )


def self_hosted_on_loopback(provider: str, base_url: str | None) -> bool:
    """An ollama or vllm server at this machine's own address: the prompt stays here."""
    preset = PRESETS.get(provider)
    if preset is None or not preset.self_hosted:
        return False
    host = urlsplit(base_url or preset.base_url or "").hostname or ""
    return host == "localhost" or host == "::1" or host.startswith("127.")
