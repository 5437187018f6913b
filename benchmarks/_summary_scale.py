"""Summary sections about scale: streams, fleets sharing Redis, and the fault soak."""

from __future__ import annotations

from typing import Any

from benchmarks._tables import contender_order, spread, table, verdict, x


def streams_section(data: dict[str, Any]) -> list[str]:
    setup, rows = data["setup"], []
    for case, contenders in data["cases"].items():
        mode, chunks = case.split("-")
        for name in sorted(contenders, key=contender_order):
            r = contenders[name]
            rows.append(
                [
                    f"{mode}, {chunks} chunks",
                    name,
                    spread(r["cpu_us_per_stream"], digits=0),
                    spread(r["cpu_ratio"], "x"),
                    spread(r["ttft_ms"]),
                    spread(r["ttft_ratio"], "x"),
                ]
            )
    batches = setup["streams_per_batch"]
    head = ["case", "contender", "CPU µs/stream", "CPU vs SDK", "first token ms", "vs SDK"]
    return [
        "## Streams",
        "",
        f"Whole streams read one after another against healthy fakes in another process "
        f"that answer in 10 or 200 content chunks: {setup['rounds']} rounds of "
        f"{batches['10']} (10 chunks) or {batches['200']} (200 chunks) streams per "
        "contender and case, in a shuffled order each round. Cells: median over rounds "
        "(min to max) of the client's CPU per stream and of the median time to the first "
        "content chunk, and of their ratios to the raw SDK's in the same round (LiteLLM: "
        "its driver process).",
        "",
        *table(head, rows),
    ]


def stream_targets(streams: dict[str, Any]) -> list[list[object]]:
    rows: list[list[object]] = []
    for key, label in (("cpu_ratio", "client CPU"), ("ttft_ratio", "time to first token")):
        ratios = [streams["cases"][f"{m}-10"]["failover, 1 target"][key] for m in ("sync", "async")]
        rows.append(
            [
                f"10-chunk stream {label} <= 1.05x raw SDK (sync / async, median of rounds)",
                " / ".join(x(r["median"]) for r in ratios),
                verdict(max(r["median"] for r in ratios) <= 1.05),
            ]
        )
    return rows


def fleet_section(data: dict[str, Any]) -> list[str]:
    setup, healthy = data["setup"], data["healthy"]
    names = list(next(iter(data["outage"].values())))
    rounds = setup["rounds"]
    rows = [
        [f"{size} process{'es' if size != '1' else ''}"]
        + [
            f"{spread(by[name]['dead_calls'], digits=0)} of {by[name]['answered'] / rounds:,.0f}"
            for name in names
        ]
        for size, by in data["outage"].items()
    ]
    failed = sum(by[name]["failed"] for by in data["outage"].values() for name in names)
    cost = [
        [
            name,
            spread(healthy["p50_ms"][name]),
            spread(healthy["cpu_us_per_call"][name], digits=0),
        ]
        for name in sorted(healthy["p50_ms"], key=contender_order)
    ]
    ratios = [
        ["Redis health / in-process health", spread(healthy["cpu_redis_vs_local"], "x")],
        ["Redis health / raw SDK", spread(healthy["cpu_redis_vs_raw"], "x")],
    ]
    return [
        "## Fleets",
        "",
        f"Worker processes call primary then backup in a loop for {setup['run_s']:g} s; the "
        f"primary answers 503 for the first {setup['dead_s']:g} s. Every contender opens "
        "after 3 failures for 1 s, with no retries in place. Cells: the requests the dead "
        f"primary received from the whole fleet, median ({rounds} rounds, min to max), of "
        "the calls the fleet answered per run. LiteLLM spends about 8 ms of CPU per call, so "
        "on this 2-core machine its fleet makes far fewer calls: compare its counts with "
        f"that in mind. Calls that failed, over all runs: {failed}.",
        "",
        *table(["fleet", *names], rows),
        f"A healthy call, sequential, sync: {healthy['setup']['rounds']} rounds of "
        f"{healthy['setup']['calls_per_round']} calls per contender, shuffled; median over "
        "rounds (min to max).",
        "",
        *table(["contender", "p50 ms", "CPU µs/call"], cost),
        *table(["CPU ratio per round", "median (min to max)"], ratios),
        "From the start of the failure report that trips a breaker to another process's "
        f"view saying open (pub/sub): {spread(data['propagation_ms'])} ms, p99 "
        f"{data['propagation_ms']['p99']:.2f} ms (two stores with their own connections "
        "in one process, 50 trips).",
        "",
        *(_forms(data["forms"]) if "forms" in data else []),
    ]


def _forms(forms: dict[str, Any]) -> list[str]:
    setup, cluster, sentinel = forms["setup"], forms["cluster_8"], forms["sentinel_kill"]
    rows = [
        [
            "8 processes on a 3-master Redis Cluster, dead primary: calls it received",
            f"{spread(cluster['dead_calls'], digits=0)} of {cluster['answered']:,} answered; "
            f"{cluster['failed']} failed",
        ],
        [
            f"4 processes through Sentinel, Redis primary SIGKILLed {setup['kill_at_s']:g} s "
            "in: failed calls",
            f"{sentinel['failed']} of {sentinel['answered'] + sentinel['failed']:,}",
        ],
        ["the same: slowest call", f"{spread(sentinel['slowest_s'])} s"],
        ["the same: the sentinels' promotion", f"{spread(sentinel['promotion_s'])} s"],
        [
            "the same: from the kill until a trip is shared again",
            f"{spread(sentinel['shared_again_s'])} s",
        ],
    ]
    return [
        f"On production forms of Redis ({setup['rounds']} rounds, median, min to max; "
        "servers of the benchmark's own):",
        "",
        *table(["fleet", "measured"], rows),
    ]


def fleet_targets(fleet: dict[str, Any]) -> list[list[object]]:
    ratio = fleet["healthy"]["cpu_redis_vs_raw"]["median"]
    four = fleet["outage"]["4"]
    shared = four["failover, health in Redis"]["dead_calls"]["max"]
    return [
        [
            "healthy call CPU with Redis health <= 1.05x raw SDK (median of rounds)",
            x(ratio),
            verdict(ratio <= 1.05),
        ],
        [
            "4 processes, dead primary: <= fail_max + 3 in flight + 1 probe per window (<= 9)",
            f"{shared:.0f} (worst round)",
            verdict(shared <= 9),
        ],
        *_forms_targets(fleet.get("forms")),
    ]


def _forms_targets(forms: dict[str, Any] | None) -> list[list[object]]:
    if forms is None:
        return []
    worst = forms["cluster_8"]["dead_calls"]["max"]
    failed = forms["sentinel_kill"]["failed"]
    return [
        [
            "8 processes on a Cluster, dead primary: <= fail_max + 7 in flight + 3 probes (<= 13)",
            f"{worst:.0f} (worst round)",
            verdict(worst <= 13),
        ],
        ["Sentinel primary killed mid-run: failed calls = 0", str(failed), verdict(failed == 0)],
    ]


def soak_section(data: dict[str, Any]) -> list[str]:
    setup = data["setup"]
    outcomes = ", ".join(f"{name} {count:,}" for name, count in data["outcomes"].items())
    checks = [[name, f"{count:,}"] for name, count in data["checks"].items()]
    slopes = data["slopes_per_100k_calls"]
    first, last = data["samples"][0], data["samples"][-1]
    return [
        "## Fault soak",
        "",
        f"`python benchmarks/soak.py --calls {setup['calls']} --seed {setup['seed']}`"
        + (f" (at commit {setup['commit']})" if "commit" in setup else "")
        + ": "
        f"{setup['sync_threads']} sync threads and {setup['async_tasks']} async tasks, half "
        f"of the calls streamed, against 3 fakes that each fail {setup['fault_rate']}; "
        f"deadline {setup['policy']['timeout']:g} s, attempt timeout "
        f"{setup['policy']['attempt_timeout']:g} s. {data['wall_s']:,.0f} s wall, "
        f"{data['calls_per_s']:,.0f} calls/s, client CPU {data['client_cpu_s']:,.0f} s.",
        "",
        f"Outcomes: {outcomes}.",
        "",
        *table(["check", "count"], checks),
        f"Largest overrun of the deadline: {data['max_overshoot_s']:.3f} s; longest call: "
        f"{data['longest_call']['seconds']:.3f} s.",
        "",
        f"After warm-up (the first {setup.get('warm_up', 0.2):.0%} of the calls), per 100k "
        f"calls: RSS {slopes['rss_mb']:+.2f} MB, open descriptors {slopes['fds']:+.2f}, "
        f"threads {slopes['threads']:+.2f}. RSS went from {first['rss_mb']:.0f} MB at start to "
        f"{last['rss_mb']:.0f} MB at {last['calls']:,} calls; descriptors {first['fds']} to "
        f"{last['fds']}; threads {first['threads']} to {last['threads']}.",
        "",
    ]
