"""The README tells the truth: its test command is CI's, its benchmark tables are the results."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

from failover._cli.doctor import run_doctor

ROOT = Path(__file__).parent.parent
README = (ROOT / "README.md").read_text()


def _between(text: str, name: str) -> str:
    match = re.search(rf"<!-- {name} -->\n(.*?)\n<!-- /{name} -->", text, re.S)
    assert match, f"README has no {name} block"
    return match.group(1).strip()


def test_ci_runs_exactly_the_readme_test_command() -> None:
    ci = (ROOT / ".ci" / "run").read_text().splitlines()
    line = ci[ci.index("# --- the README's test command, verbatim ---") + 1]
    # A subshell, so that any failing step fails CI (set -e skips inside && lists).
    assert line.startswith("( ") and line.endswith(" )"), line
    command = line[2:-2]
    assert f"```bash\npython3 -m venv .venv && . .venv/bin/activate && {command}\n```" in README


def test_benchmark_tables_match_the_results() -> None:
    summary = (ROOT / "benchmarks" / "results" / "summary.md").read_text()
    blocks = (
        "targets",
        "overhead",
        "bound",
        "soak",
        "streams",
        "responses",
        "fleet",
        "telemetry",
        "partial",
        "local",
        "groups",
    )
    for block in (f"benchmark-{name}" for name in blocks):
        # Each table or paragraph of a block must be a run of the summary's own lines, in
        # order: a row pasted from another table is caught, not only an invented one.
        for run in re.split(r"\n\s*\n", _between(README, block)):
            assert f"\n{run.strip()}\n" in summary, (
                f"README {block} lines are not consecutive lines of the summary:\n{run}"
            )


def test_the_doctor_example_is_what_doctor_prints() -> None:
    env = {
        "FAILOVER_CHAIN": "openai/gpt-5.4-mini,anthropic/claude-haiku-5-5,ollama/llama3.2",
        "OPENAI_API_KEY": "sk-proj-EXAMPLE-not-a-real-key-wxyz",
        "FAILOVER_MAX_RETRIES": "three",
        "FAILOVER_TIMOUT": "30",
        "FAILOVER_REQUIRE": "local",
    }
    for name, value in env.items():  # the same variables as the README's commands
        assert f"{name}={value}" in README
    out = io.StringIO()
    assert run_doctor(env, offline=True, out=out) == 3
    assert _between(README, "doctor-example") == f"```text\n{out.getvalue().rstrip()}\n```"


def test_the_before_send_example_masks_addresses_for_targets_without_zdr() -> None:
    from failover import Target

    start = README.index("import re\nfrom failover import Failover, Target")
    code = README[start : README.index("```", start)]
    names: dict[str, Any] = {}
    exec(code.replace("client = Failover.from_env(before_send=mask_emails)", ""), names)
    params = {"messages": [{"role": "user", "content": "Mail jane.doe+x@example.co.uk"}]}
    assert names["mask_emails"](Target("openai", "m"), params)["messages"][0]["content"] == (
        "Mail [email]"
    )
    assert names["mask_emails"](Target("openai", "m", tags=["zdr"]), params) is None
