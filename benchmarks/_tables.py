"""Markdown tables and cell formats shared by the benchmark summary's sections."""

from __future__ import annotations

from collections.abc import Sequence


def row(*cells: object) -> str:
    return "| " + " | ".join(str(c) for c in cells) + " |"


def table(head: Sequence[str], rows: Sequence[Sequence[object]]) -> list[str]:
    return [row(*head), row(*(["---"] * len(head))), *(row(*r) for r in rows), ""]


def x(value: float) -> str:
    return f"{value:.2f}x"


def verdict(ok: bool) -> str:
    return "**met**" if ok else "**missed**"


def spread(s: dict[str, float], unit: str = "", digits: int = 2) -> str:
    return f"{s['median']:.{digits}f}{unit} ({s['min']:.{digits}f} to {s['max']:.{digits}f})"


def contender_order(name: str) -> int:
    """The raw SDK first, then failover, then the peers."""
    return 0 if name.startswith("openai SDK") else 1 if name.startswith("failover") else 2
