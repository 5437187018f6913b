"""The command line: the drill (main job) and the doctor, run for real on fakes."""

from __future__ import annotations

import io
import json
import subprocess
import sys
from pathlib import Path

from failover._doctor import run_doctor
from failover.testing import FakeProvider, Fault, closed_port_url

from .conftest import SECRET


def test_drill_ends_with_zero_failures(tmp_path: Path) -> None:
    out = tmp_path / "drill.json"
    done = subprocess.run(
        [sys.executable, "-m", "failover._cli", "drill", "--seconds", "6", "--json", str(out)],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    summary = json.loads(out.read_text())
    assert done.returncode == 0, done.stdout + done.stderr
    assert summary["failed"] == 0 and summary["requests"] == summary["succeeded"] > 50
    assert {"p50_ms", "p99_ms"} <= set(summary)
    calls = {label: t["calls"] for label, t in summary["targets"].items()}
    assert set(calls) == {"openai/gpt-4o-mini", "anthropic/claude-haiku-4-5", "local/llama3.2"}
    assert all(n > 0 for n in calls.values())  # every tier of the chain was exercised
    assert "4 primary connection refused" in done.stdout  # phases are announced when not a TTY


def test_doctor_reports_each_target_without_keys(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    primary.set_mode(Fault.status(401, message=f"Incorrect API key provided: {SECRET}"))
    env = {
        "FAILOVER_CHAIN": "good/m,badkey/m,nokey/m,gone/m",
        "FAILOVER_PROVIDER_GOOD_API": "anthropic",
        "FAILOVER_PROVIDER_GOOD_BASE_URL": secondary.base_url,
        "FAILOVER_PROVIDER_GOOD_API_KEY": SECRET,
        "FAILOVER_PROVIDER_BADKEY_API": "openai",
        "FAILOVER_PROVIDER_BADKEY_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_BADKEY_API_KEY": SECRET,
        "FAILOVER_PROVIDER_NOKEY_API": "grpc",
        "FAILOVER_PROVIDER_GONE_API": "openai",
        "FAILOVER_PROVIDER_GONE_BASE_URL": closed_port_url(),
    }
    out = io.StringIO()
    assert run_doctor(env, timeout=5, out=out) == 1
    lines = {line.split()[0]: line for line in out.getvalue().splitlines()[1:]}
    assert " ok " in lines["good/m"]
    assert "auth problem" in lines["badkey/m"]
    assert "not configured" in lines["nokey/m"]
    assert "unreachable" in lines["gone/m"]
    assert SECRET not in out.getvalue()


def test_doctor_without_a_chain_says_what_to_set() -> None:
    out = io.StringIO()
    assert run_doctor({}, out=out) == 2
    assert "FAILOVER_CHAIN" in out.getvalue()
