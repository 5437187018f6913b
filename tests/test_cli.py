"""The command line: the drill (main job), --version, --help and python -m failover.

The doctor has its own file, tests/test_doctor.py."""

from __future__ import annotations

import importlib.metadata
import json
import subprocess
import sys
from pathlib import Path

import failover
from failover._config.local_models import local_model_installed


def test_drill_ends_with_zero_failures(tmp_path: Path) -> None:
    out = tmp_path / "drill.json"
    done = subprocess.run(
        [sys.executable, "-m", "failover", "drill", "--seconds", "6", "--json", str(out)],
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
    tiers = {"openai/gpt-5.4-mini", "anthropic/claude-haiku-5-5", "ollama/llama3.2"}
    tiers |= {f"{name}/gpt-5.4-mini" for name in ("east", "west", "north")}  # the storm's
    if local_model_installed():  # failover[local]: the model in process ends the chain
        tiers.add("local/smollm2")
        assert "9 every server down: the model in this process answers" in done.stdout
        assert summary["targets"]["local/smollm2"]["served"] > 0
    assert set(calls) == tiers
    assert all(n > 0 for n in calls.values())  # every tier of the chain was exercised
    assert "4 primary connection refused" in done.stdout  # phases are announced when not a TTY
    assert set(summary["storm"]) == {f"{n}/gpt-5.4-mini" for n in ("east", "west", "north")}


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "failover", *args],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


def test_version_is_the_package_version() -> None:
    done = _cli("--version")
    assert done.returncode == 0
    # Single-sourced: the installed metadata, the module and the command agree.
    assert done.stdout.strip() == f"failover {failover.__version__}"
    assert importlib.metadata.version("failover") == failover.__version__


def test_python_dash_m_shows_plain_help_with_examples() -> None:
    done = _cli("--help")
    assert done.returncode == 0
    assert {"drill", "doctor", "fake-server", "examples:"} <= set(done.stdout.split())
    for command in ("drill", "doctor", "fake-server"):
        sub = _cli(command, "--help")
        assert sub.returncode == 0, sub.stderr
        assert "example" in sub.stdout and "``" not in sub.stdout, command
