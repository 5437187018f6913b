"""What a chain is: groups of targets in order, and the checks a chain must pass.

A chain is a sequence of groups tried in order. Within a group, calls are spread over
its targets by weight and load (``_routing/balance.py``), and a call that fails on one
tries a sibling before the next group. ``|`` joins targets into a group in
``FAILOVER_CHAIN``; in code, :class:`Group`. A lone target is a group of one, so a chain
without groups is routed exactly as before. A chain names no target twice and ends in
at most one static answer; an embedding chain serves one model.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import replace

from .._core.errors import ConfigError
from .policy import Target

__all__ = [
    "Chain",
    "Group",
    "Groups",
    "checked_chain",
    "checked_embedding_chain",
    "flat",
    "grouped",
]

Groups = tuple[tuple[Target, ...], ...]


class Group:
    """Equivalent targets (deployments of one model) that share a place in the chain.

    >>> Failover([
    ...     Group("openai/gpt-5.4-mini", "azure/eastus=gpt-5.4-mini", weights=[2, 1]),
    ...     "anthropic/claude-haiku-5-5",
    ... ])

    Each call goes first to one of them, picked by weight and by the requests in flight
    on each; if it fails, to the others, then to the next place in the chain.
    ``weights`` (one number > 0 per target) replace the targets' own ``weight``
    (``Target(weight=)``, ``FAILOVER_PROVIDER_<NAME>_WEIGHT``; 1 by default).
    """

    __slots__ = ("members", "weights")

    def __init__(self, *members: Target | str, weights: Sequence[float] | None = None) -> None:
        if not members:
            raise ConfigError("a Group needs at least one target", variable="chain")
        if weights is not None and len(weights) != len(members):
            raise ConfigError(
                f"a Group of {len(members)} targets was given {len(weights)} weights",
                variable="weights",
            )
        for member in members:
            if not isinstance(member, Target | str):
                raise ConfigError(
                    f"a Group holds Targets or 'provider/model' strings, got {member!r}",
                    variable="chain",
                )
        self.members = members
        self.weights = None if weights is None else tuple(weights)

    def __repr__(self) -> str:
        names = ", ".join(m.label if isinstance(m, Target) else repr(m) for m in self.members)
        return f"Group({names}, weights={list(self.weights) if self.weights else None})"


Chain = Sequence[Target | str | Group]


def grouped(chain: Chain, resolve: Callable[[str], Target], var: str) -> Groups:
    """``chain`` as groups of targets (a lone target: a group of one). A static answer or
    a model in this process shares a place with no other target: each is a last resort,
    not a deployment among equals."""
    groups: list[tuple[Target, ...]] = []
    for item in chain:
        members = item.members if isinstance(item, Group) else (item,)
        targets = [m if isinstance(m, Target) else resolve(m) for m in members]
        if isinstance(item, Group) and item.weights is not None:
            targets = [replace(t, weight=w) for t, w in zip(targets, item.weights, strict=True)]
        if len(targets) > 1:
            for t in targets:
                if t.degraded or t.in_process:
                    what = "a static answer" if t.degraded else "a model in this process"
                    raise ConfigError(
                        f"{var}: {t.label} is {what}, a last resort that shares its place "
                        "in the chain with no other target; give it a place of its own",
                        variable=var,
                    )
            # Deployments of one model: a mix is most likely a slip, and would answer
            # like two models by turns.
            one_model(targets, var, "a group joins deployments of one model")
        groups.append(tuple(targets))
    return tuple(groups)


def one_model(targets: Sequence[Target], var: str, why: str) -> None:
    """Refuse ``targets`` that serve two models (``why``: what one model is needed for),
    naming both."""
    first = targets[0]
    for t in targets[1:]:
        if t.served_model != first.served_model:
            raise ConfigError(
                f"{var} mixes model {first.served_model!r} ({first.label}) with model "
                f"{t.served_model!r} ({t.label}): {why}. If they are one model under two "
                "names (an Azure deployment, a Bedrock model id), say which it serves: "
                "azure/<deployment>=<model>, provider/<id>=<model>, or Target(..., serves=)",
                variable=var,
            )


def flat(groups: Groups) -> list[Target]:
    """Every target of ``groups``, in order."""
    return [t for group in groups for t in group]


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


def checked_embedding_chain(targets: Sequence[Target], var: str) -> None:
    """Refuse a chain that could mix vectors from two models, naming them."""
    for t in targets:
        if t.api != "openai":
            kinds = {
                "static": "a static answer",
                "local": "a model in this process",
                "bedrock": "Claude on AWS Bedrock",
                "vertex": "Claude on Vertex AI",
            }
            what = kinds.get(t.api, f"an {t.api} target")
            raise ConfigError(
                f"{var}: {t.label} is {what}, which has no embeddings API; an embedding "
                "chain holds OpenAI-compatible targets (openai, azure, ollama, vllm, ...)",
                variable=var,
            )
    one_model(targets, var, "vectors of two models cannot share an index")
