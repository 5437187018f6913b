"""Render results/*.json as results/summary.md (tables + targets met/missed).

``python -m benchmarks.summary [DIR]`` re-renders from existing JSON without rerunning.
"""

from __future__ import annotations

import json
import math
import sys
from pathlib import Path
from typing import Any

from benchmarks._common import BENCH
from benchmarks._summary_groups import groups_section, groups_targets
from benchmarks._summary_instructions import instruction_targets, instructions_section
from benchmarks._summary_local import local_section
from benchmarks._summary_partial import partial_section
from benchmarks._summary_responses import responses_section, responses_targets
from benchmarks._summary_scale import (
    fleet_section,
    fleet_targets,
    soak_section,
    stream_targets,
    streams_section,
)
from benchmarks._summary_telemetry import telemetry_section
from benchmarks._tables import spread, table, verdict, x

PHASE_TITLES = {
    "healthy": "healthy",
    "status503": "503",
    "html502": "HTML 502",
    "hang": "hang",
    "refused": "refused",
    "flap30": "flap 30%",
}


def overhead_section(data: dict[str, Any]) -> list[str]:
    seq, conc, setup = data["sequential"], data["concurrent"], data["setup"]
    rows = []
    for name, s in seq.items():
        c = conc[name]
        cells = [s["p50_ms"], s["p99_ms"], x(s["p50_ratio"]), f"{s['cpu_us_per_call']:.0f}"]
        cells += [c["p50_ms"], c["p99_ms"], x(c["p50_ratio"]), f"{c['cpu_us_per_call']:.0f}"]
        rows.append([name, *(f"{v:.2f}" if isinstance(v, float) else v for v in cells)])
    n = setup["concurrency"]
    head = ["contender", "seq p50 ms", "seq p99 ms", "seq p50 vs SDK", "seq CPU µs/call"]
    head += [f"c={n} p50 ms", f"c={n} p99 ms", f"c={n} p50 vs SDK", f"c={n} CPU µs/call"]
    intro = (
        f"{setup['sequential_calls']} sequential calls (sync clients) in batches of "
        f"{setup['sequential_batch']}, and {setup['concurrent_calls']} calls at concurrency "
        f"{n} (async clients) in batches of {setup['concurrent_batch']}, per contender, "
        "after warm-up, against one healthy fake provider in another process. The "
        "contenders' order is shuffled every round. *CPU µs/call*: CPU time of the client's "
        "process per call (LiteLLM: its driver process)."
    )
    return ["## Overhead", "", intro, "", *table(head, rows)]


def _hang(result: dict[str, Any]) -> dict[str, Any]:
    phase: dict[str, Any] = next(p for p in result["phases"] if p["kind"] == "hang")
    return phase


def _timeline(drill: dict[str, Any]) -> str:
    return ", ".join(f"{PHASE_TITLES[k]} {s:g} s" for k, s in drill["timeline"])


def _drill_row(name: str, r: dict[str, Any]) -> list[object]:
    return [
        name,
        f"{r['success_pct']:.1f}",
        f"{r['p50_ms']:.0f}",
        f"{r['p99_ms']:.0f}",
        f"{r['hang_p99_ms']:.0f}",
        r["dead_target_received"],
        r["dead_target_sends"],
        f"{r['attempts_per_call']:.2f}",
        r["n"],
    ]


def _cold_row(name: str, r: dict[str, Any]) -> list[object]:
    hang = _hang(r)
    return [
        name,
        f"{r['success_pct']:.1f}",
        f"{hang['p50_ms']:.0f}",
        f"{hang['p99_ms']:.0f}",
        hang["received_primary"],
        f"{r['attempts_per_call_dead']:.2f}",
    ]


def outage_section(data: dict[str, Any]) -> list[str]:
    drill, cold, setup = data["drill"], data["cold_hang"], data["setup"]
    rows = [_drill_row(name, r) for name, r in drill["contenders"].items()]
    head = ["contender", "success %", "p50 ms", "p99 ms", "hang-phase p99 ms"]
    head += ["dead primary: received", "dead primary: sent", "attempts/call", "calls"]
    kinds = [p["kind"] for p in next(iter(drill["contenders"].values()))["phases"]]
    phase_rows = [
        [name, *(f"{p['success_pct']:.0f}% / {p['received_primary']}" for p in r["phases"])]
        for name, r in drill["contenders"].items()
    ]
    cold_rows = [_cold_row(name, r) for name, r in cold["contenders"].items()]
    cold_head = ["contender", "success %", "hang p50 ms", "hang p99 ms"]
    cold_head += ["primary received in hang", "attempts/call in hang"]
    return [
        "## Outage drill",
        "",
        f"Timeline: {_timeline(drill)}. Open-loop load: a call every "
        f"{1 / setup['rate_per_s']:g} s whether earlier calls finished or not, so every "
        f"contender gets the same calls; {setup['attempt_timeout_s']:g} s per-attempt "
        "timeout for all. Latency covers every call (answer or error), by the phase it "
        "started in. *received*: requests the primary fake got while failing 100% (503, "
        "HTML 502, hang; a refused connection never reaches it); *sent*: HTTP sends to the "
        "primary counted on the client, in calls started in the 503, 502, hang and "
        "refused phases; *attempts/call*: all HTTP sends per call.",
        "",
        *table(head, rows),
        "Per phase: success % / requests received by the primary.",
        "",
        *table(["contender", *(PHASE_TITLES[k] for k in kinds)], phase_rows),
        f"Cold hang (the hang is the first failure; breakers closed): {_timeline(cold)}.",
        "",
        *table(cold_head, cold_rows),
        "Settings: " + "; ".join(f"{k}: {v}" for k, v in setup.items()) + ".",
        "",
    ]


def startup_section(data: dict[str, Any]) -> list[str]:
    rows = [
        [f"`{name}`", f"{r['import_ms']:.1f}", x(r["vs_openai"]), f"{r['rss_mb']:.1f}"]
        for name, r in data["cases"].items()
    ]
    intro = f"Fresh interpreter per run, median of {data['setup']['repeats']}."
    head = ["statement", "import ms", "vs import openai", "RSS after, MB"]
    return ["## Start-up", "", intro, "", *table(head, rows)]


def bound_section(data: dict[str, Any]) -> list[str]:
    b, first = data["bound"], data["first_request"]
    rows = [
        [name, spread(b["p50_ms"][name]), spread(b["cpu_us_per_call"][name])]
        for name in b["p50_ms"]
    ]
    ratios = [
        [label, spread(b[key]["p50"], "x"), spread(b[key]["cpu"], "x")]
        for key, label in (
            ("bounded_vs_unbounded", "bounded / unbounded"),
            ("bounded_vs_raw", "bounded / raw SDK"),
        )
    ]
    first_rows = [
        [name, spread(c["first_ms"]), spread(c["warm_ms"]), spread(c["excess_ms"])]
        for name, c in first["cases"].items()
    ]
    setup = b["setup"]
    return [
        "## Wall-clock bound and first request",
        "",
        f"Sync calls against one healthy fake in another process: {setup['rounds']} rounds "
        f"of {setup['calls_per_round']} calls per contender, in a shuffled order each round. "
        "Cells: median over rounds (min to max) of each round's median latency, and of its "
        "client CPU per call. *Unbounded*: the same failover client with the SDK's stock "
        "HTTP client swapped in, so the difference is the bound alone.",
        "",
        *table(["contender", "p50 ms", "CPU µs/call"], rows),
        *table(["ratio per round", "p50", "CPU"], ratios),
        f"First request in a fresh interpreter ({first['setup']['runs']} runs, interleaved): "
        f"the first call, the median of the next {first['setup']['warm_calls']}, and the "
        "first call's excess over that, in ms: median (min to max).",
        "",
        *table(["client", "first call", "warm call", "excess"], first_rows),
    ]


def targets(
    over: dict[str, Any],
    out: dict[str, Any],
    start: dict[str, Any],
    bound: dict[str, Any],
    streams: dict[str, Any],
    fleet: dict[str, Any] | None,
    instructions: dict[str, Any] | None = None,
    responses: dict[str, Any] | None = None,
    grouped: dict[str, Any] | None = None,
) -> list[str]:
    rows: list[list[object]] = []
    for mode in ("sequential", "concurrent"):
        t = over[mode]
        ratios = [t[n]["p50_ratio"] for n in t if n.startswith("failover")]
        rows.append(
            [
                f"overhead p50 <= 1.03x raw SDK ({mode})",
                " / ".join(x(r) for r in ratios) + " (1 target / chain)",
                verdict(max(ratios) <= 1.03),
            ]
        )
    rows += stream_targets(streams)
    rows += responses_targets(responses) if responses else []
    rows += fleet_targets(fleet) if fleet else []
    rows += instruction_targets(instructions) if instructions else []
    rows += groups_targets(grouped) if grouped else []
    for statement in ("import failover", "from failover import Failover"):
        ratio = start["cases"][statement]["vs_openai"]
        rows.append([f"`{statement}` <= 0.25x `import openai`", x(ratio), verdict(ratio <= 0.25)])
    excess = bound["first_request"]["cases"]["failover (clients built at construction)"]
    worst = excess["excess_ms"]["max"]
    rows.append(
        [
            "first request <= warm request + 50 ms (worst of runs)",
            f"+{worst:.1f} ms",
            verdict(worst <= 50),
        ]
    )
    res = out["drill"]["contenders"]
    fo, peer = res["failover"], res["LiteLLM Router"]
    rows.append(
        ["outage success 100%", f"{fo['success_pct']:.2f}%", verdict(fo["success_pct"] >= 100)]
    )
    mine, theirs = fo["dead_target_received"], peer["dead_target_received"]
    fewer = theirs / mine if mine else math.inf
    rows.append(
        [
            ">= 10x fewer calls to the dead target than LiteLLM",
            f"{mine} vs {theirs} ({fewer:.1f}x fewer)",
            verdict(fewer >= 10),
        ]
    )
    timeout_ms = out["setup"]["attempt_timeout_s"] * 1000
    for label, result in (
        ("drill: hang after 503/502", fo),
        ("cold hang", out["cold_hang"]["contenders"]["failover"]),
    ):
        bound = timeout_ms + result["fallback_p99_ms"]
        p99 = _hang(result)["p99_ms"]
        rows.append(
            [
                f"hang-phase p99 <= attempt timeout + fallback p99 ({label})",
                f"{p99:.0f} ms vs {bound:.0f} ms",
                verdict(p99 <= bound),
            ]
        )
    return ["## Targets", "", *table(["target", "measured", "verdict"], rows)]


def render(folder: Path) -> str:
    def load(name: str) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((folder / f"{name}.json").read_text())
        return data

    over, out, start, bound = load("overhead"), load("outage"), load("startup"), load("bound")
    streams = load("streams")
    fleet = load("fleet") if (folder / "fleet.json").exists() else None
    otel = load("telemetry") if (folder / "telemetry.json").exists() else None
    partial = load("partial") if (folder / "partial.json").exists() else None
    in_process = load("local") if (folder / "local.json").exists() else None
    counted = load("instructions") if (folder / "instructions.json").exists() else None
    grouped = load("groups") if (folder / "groups.json").exists() else None
    answered = load("responses") if (folder / "responses.json").exists() else None
    meta = over["meta"]
    lines = [
        "# Benchmark summary",
        "",
        f"Generated by `python benchmarks/run.py{' --quick' if meta['profile'] != 'full' else ''}`"
        f" from the JSON beside this file. {meta['machine']}.",
        "",
        *targets(over, out, start, bound, streams, fleet, counted, answered, grouped),
        *overhead_section(over),
        *streams_section(streams),
        *(responses_section(answered) if answered else []),
        *(fleet_section(fleet) if fleet else []),
        *(instructions_section(counted) if counted else []),
        *(partial_section(partial) if partial else []),
        *(groups_section(grouped) if grouped else []),
        *(telemetry_section(otel) if otel else []),
        *(local_section(in_process) if in_process else []),
        *bound_section(bound),
        *outage_section(out),
        *startup_section(start),
        *(soak_section(load("soak")) if (folder / "soak.json").exists() else []),
        "Versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()) + ".",
        "",
    ]
    return "\n".join(lines)


def write(folder: Path) -> Path:
    path = folder / "summary.md"
    path.write_text(render(folder))
    return path


if __name__ == "__main__":
    print(write(Path(sys.argv[1]) if len(sys.argv) > 1 else BENCH / "results"))
