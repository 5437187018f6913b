"""The drill's rate-limit storm: one model on three deployments with different quotas,
under a load above what any one of them allows.

The everyday failure of a deployment is not an outage but a spent quota. The storm's
client routes through a group of three OpenAI-shaped fakes, weighted as their quotas
are (2:1:1), ahead of the drill's Anthropic fake; each fake enforces its quota per
window with the vendor's rate-limit headers and a 429 once it is spent. The load is
paced to :data:`RATE` calls a second, above the largest deployment's share of it.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping
from typing import Any

from .._config.chains import Group
from .._config.policy import Target
from ..testing._provider import FakeProvider

__all__ = [
    "RATE",
    "STORM",
    "capacity_share",
    "storm_chain",
    "storm_fakes",
    "storm_quotas",
    "storm_summary",
]

RATE = 100.0  # calls a second, offered by all the drill's workers together
WINDOW = 4.0  # seconds: each fake's quota window
# Each deployment's quota per second, and so its weight: together 120 a second, 20% more
# than the load, while the largest alone allows 60.
STORM: Mapping[str, int] = {"east": 60, "west": 30, "north": 30}
_KEY = "drill-key-not-secret"
MODEL = "gpt-5.4-mini"


@contextlib.contextmanager
def storm_fakes(reply: Any) -> Iterator[dict[str, FakeProvider]]:
    with contextlib.ExitStack() as stack:
        yield {
            name: stack.enter_context(FakeProvider("openai", reply=reply, name=name))
            for name in STORM
        }


def storm_chain(fakes: Mapping[str, FakeProvider], backup: Target) -> list[Target | Group]:
    """The three deployments as one group, weighted by their quotas, then ``backup``."""
    deployments = [
        Target("openai", MODEL, base_url=fake.base_url, api_key=_KEY, name=f"{name}/{MODEL}")
        for name, fake in fakes.items()
    ]
    return [Group(*deployments, weights=[STORM[name] for name in fakes]), backup]


def storm_quotas(fakes: Mapping[str, FakeProvider]) -> None:
    """Start enforcing each deployment's quota (a fresh window)."""
    for name, fake in fakes.items():
        fake.set_quota(round(STORM[name] * WINDOW), per=WINDOW)


def capacity_share() -> dict[str, float]:
    """Each deployment's share of the group's whole quota, by its label."""
    whole = sum(STORM.values())
    return {f"{name}/{MODEL}": per_second / whole for name, per_second in STORM.items()}


def storm_summary(targets: Mapping[str, Mapping[str, Any]]) -> dict[str, Any]:
    """Per deployment, from the drill summary's ``targets``: calls served, its share of
    the group's, its share of the group's quota, and the 429s it answered."""
    capacity = capacity_share()
    served = {label: targets.get(label, {}).get("served", 0) for label in capacity}
    whole = sum(served.values()) or 1
    return {
        label: {
            "served": served[label],
            "share": round(served[label] / whole, 3),
            "capacity_share": round(capacity[label], 3),
            "received_429": targets.get(label, {}).get("errors", {}).get("rate_limit", 0),
        }
        for label in capacity
    }
