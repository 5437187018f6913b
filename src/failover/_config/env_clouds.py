"""Where a cloud target runs, read from the environment by each cloud's own conventions:
the region of a Bedrock or Vertex AI target, and the project of a Vertex AI one.

``FAILOVER_PROVIDER_<NAME>_REGION`` and ``_PROJECT`` come first, so that one chain can
name several regions; then AWS's ``AWS_REGION`` / ``AWS_DEFAULT_REGION``, and the
anthropic SDK's ``CLOUD_ML_REGION`` / ``ANTHROPIC_VERTEX_PROJECT_ID``.
"""

from __future__ import annotations

from collections.abc import Mapping

from .._core.errors import ConfigError

__all__ = ["cloud_place"]

_REGIONS = {"bedrock": ("AWS_REGION", "AWS_DEFAULT_REGION"), "vertex": ("CLOUD_ML_REGION",)}
_PROJECTS = ("ANTHROPIC_VERTEX_PROJECT_ID",)


def cloud_place(
    api: str, provider: str, prefix: str, env: Mapping[str, str], token: str | None
) -> tuple[str | None, str | None]:
    """``(region, project)`` for a target of ``api``; ``(None, None)`` for one that is
    not on a cloud, which may not set either."""
    if api not in _REGIONS:
        for setting in ("REGION", "PROJECT"):
            if env.get(prefix + setting, "").strip():
                raise ConfigError(
                    f"{prefix}{setting} is set, but {provider!r} is not a bedrock or vertex "
                    "provider (only those run in a cloud region)",
                    variable=prefix + setting,
                )
        return None, None
    region = _first(env, prefix + "REGION", *_REGIONS[api])
    if region is None:
        said = " or ".join((prefix + "REGION", *_REGIONS[api]))
        raise ConfigError(
            f"provider {provider!r} ({api}) needs a region: set {said}",
            variable=prefix + "REGION",
        )
    if api == "bedrock":
        if env.get(prefix + "PROJECT", "").strip():
            raise ConfigError(
                f"{prefix}PROJECT is set, but only Vertex AI targets have a project",
                variable=prefix + "PROJECT",
            )
        return region, None
    project = _first(env, prefix + "PROJECT", *_PROJECTS)
    if project is None and token:  # Google's credentials would have named it; a token does not
        raise ConfigError(
            f"provider {provider!r} (vertex) has an access token but no project: set "
            f"{prefix}PROJECT or ANTHROPIC_VERTEX_PROJECT_ID",
            variable=prefix + "PROJECT",
        )
    return region, project


def _first(env: Mapping[str, str], *names: str) -> str | None:
    for name in names:
        value = env.get(name, "").strip()
        if value:
            return value
    return None
