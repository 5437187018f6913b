"""The one command: ``python benchmarks/run.py [--quick] [--only NAME ...]``.

Creates LiteLLM's venv if missing, starts the fake providers in their own process,
runs the start-up, overhead, outage, bound/first-request, streams, Responses API, fleet,
OpenTelemetry, local-model, instruction-count and groups benchmarks (the fleet and
instruction ones need Redis: ``FAILOVER_REDIS_URL``, default the local one), writes
``results/*.json`` and renders ``results/summary.md`` from them (``--quick``:
``results/quick/``).
"""

from __future__ import annotations

import argparse
import importlib.metadata
import os
import platform
import sys
import tempfile
import time
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

if not __package__:  # run as a script: make ``benchmarks`` importable
    sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import (
    bound_cost,
    fleet,
    fleet_forms,
    groups,
    instructions,
    local,
    outage,
    overhead,
    partial,
    responses,
    startup,
    streams,
    summary,
    telemetry,
)
from benchmarks._common import FULL, QUICK, Profile, write_json
from benchmarks._fake import FakeServers
from benchmarks._peer import LiteLLMPeer, ensure_venv, installed_version

STAGES = (
    "startup",
    "overhead",
    "outage",
    "bound",
    "streams",
    "responses",
    "fleet",
    "telemetry",
    "partial",
    "local",
    "instructions",
    "groups",
)
# The stages that share one fake-provider process and one LiteLLM driver.
ON_FAKES = {"overhead", "outage", "bound", "streams", "responses", "fleet", "telemetry", "partial"}
REDIS_URL = os.environ.get("FAILOVER_REDIS_URL") or "redis://127.0.0.1:6379/0"


def meta(profile: Profile) -> dict[str, Any]:
    versions = {p: importlib.metadata.version(p) for p in ("failover", "openai", "httpx2")}
    versions["tenacity"] = importlib.metadata.version("tenacity")
    versions["litellm"] = installed_version() or "?"
    versions["python"] = platform.python_version()
    cpus = os.cpu_count()
    return {
        "profile": profile.name,
        "date": datetime.now(UTC).isoformat(timespec="seconds"),
        "machine": f"{platform.system()} {platform.machine()}, {cpus} CPUs",
        "versions": versions,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--quick", action="store_true", help="~1 minute smoke run")
    parser.add_argument("--only", nargs="+", choices=STAGES, default=list(STAGES))
    args = parser.parse_args(argv)
    profile = QUICK if args.quick else FULL
    folder = profile.results
    folder.mkdir(parents=True, exist_ok=True)
    started = time.monotonic()
    info = meta(profile)
    log_path = Path(tempfile.gettempdir()) / "failover-benchmarks.log"
    with log_path.open("w") as log:
        print(f"profile {profile.name}; child processes log to {log_path}", flush=True)
        if set(args.only) - {"local", "instructions"}:  # the others compare with LiteLLM
            ensure_venv(log)
            info["versions"]["litellm"] = installed_version() or "?"
        if "startup" in args.only:
            print("start-up ...", flush=True)
            write_json(
                folder / "startup.json", {"meta": info, **startup.run(profile.import_repeats)}
            )
        if "local" in args.only:
            print("a model in process ...", flush=True)
            write_json(folder / "local.json", {"meta": info, **local.run()})
        if "groups" in args.only:
            print("several deployments under a rate-limit storm ...", flush=True)
            peer = LiteLLMPeer(log)
            try:
                write_json(folder / "groups.json", {"meta": info, **groups.run(profile, peer)})
            finally:
                peer.close()
        if "instructions" in args.only and not instructions.available():
            print("instructions per call: skipped, valgrind is not installed", flush=True)
        elif "instructions" in args.only:
            print("instructions per call (callgrind) ...", flush=True)
            fakes = FakeServers(log)
            try:
                data = instructions.run(fakes.urls["primary"], REDIS_URL)
            finally:
                fakes.close()
            write_json(folder / "instructions.json", {"meta": info, **data})
        if ON_FAKES & set(args.only):
            fakes, peer = FakeServers(log), LiteLLMPeer(log)
            try:
                if "overhead" in args.only:
                    print("overhead ...", flush=True)
                    data = overhead.run(profile, fakes, peer)
                    write_json(folder / "overhead.json", {"meta": info, **data})
                if "outage" in args.only:
                    print("outage drill ...", flush=True)
                    data = outage.run(profile, fakes, peer)
                    write_json(folder / "outage.json", {"meta": info, **data})
                if "bound" in args.only:
                    print("wall-clock bound and first request ...", flush=True)
                    fakes.reset()
                    data = bound_cost.run(
                        fakes.urls["primary"],
                        profile.bound_rounds,
                        profile.bound_batch,
                        profile.import_repeats,
                    )
                    write_json(folder / "bound.json", {"meta": info, **data})
                if "streams" in args.only:
                    print("streams ...", flush=True)
                    batches = {10: profile.stream_batch, 200: max(5, profile.stream_batch // 5)}
                    data = streams.run(profile.stream_rounds, batches, fakes, peer)
                    write_json(folder / "streams.json", {"meta": info, **data})
                if "responses" in args.only:
                    print("the Responses API ...", flush=True)
                    fakes.reset()
                    data = responses.run(profile, fakes, peer)
                    write_json(folder / "responses.json", {"meta": info, **data})
                if "fleet" in args.only:
                    print(f"fleets (Redis at {REDIS_URL}) ...", flush=True)
                    fakes.reset()
                    data = fleet.run(
                        fakes.urls["primary"],
                        REDIS_URL,
                        profile.fleet_rounds,
                        profile.healthy_rounds,
                        profile.healthy_batch,
                    )
                    print("fleets on a Redis Cluster and through Sentinel ...", flush=True)
                    data["forms"] = fleet_forms.run(profile.fleet_rounds)
                    write_json(folder / "fleet.json", {"meta": info, **data})
                if "partial" in args.only:
                    print("partial outages ...", flush=True)
                    data = partial.run(profile, fakes, peer)
                    write_json(folder / "partial.json", {"meta": info, **data})
                if "telemetry" in args.only:
                    print("OpenTelemetry ...", flush=True)
                    fakes.reset()
                    primary = fakes.urls["primary"]
                    data = telemetry.run(primary, profile.bound_rounds, profile.bound_batch)
                    write_json(folder / "telemetry.json", {"meta": info, **data})
            finally:
                peer.close()
                fakes.close()
    if all((folder / f"{stage}.json").exists() for stage in STAGES):
        path = summary.write(folder)
        print(path.read_text())
    print(f"done in {time.monotonic() - started:.0f} s; results in {folder}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
