"""Every example runs, in fake mode, as a user would run it."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

EXAMPLES = Path(__file__).parent.parent / "examples"
SCRIPTS = sorted(p.name for p in EXAMPLES.glob("*.py") if not p.name.startswith(("_", "test_")))
EXPECTED = {
    "quickstart.py": "answered by openai/gpt-5.4-mini",
    "fallback_to_local.py": "Hello from the (fake) local Ollama model.",
    "streaming.py": "(streamed by ollama/llama3.2)",
    "async_batch.py": "20 answers",
    "outage_drill.py": " 0 failed",
    "static_last_resort.py": "degraded: True (answered by static/busy)",
    "local_last_resort.py": "local: True (answered by local/smollm2)",
    "azure_to_openai.py": "answered by openai/gpt-5.5\n",
    "private_fallback.py": "private prompts the cloud backup received: 0",
    "embeddings.py": "2 vectors of 64 floats from azure-eu/emb-prod",
    "structured_fallback.py": "parsed: City(city='Paris', country='France')",
    "several_deployments.py": "the next group: 0",
    "claude_three_clouds.py": "anthropic and bedrock down: Hello from Claude on Vertex AI.",
    "responses_fallback.py": "Claude received turn 1 as well: True",
}


def _fake_env() -> dict[str, str]:
    return {
        k: v
        for k, v in os.environ.items()
        if k not in ("FAILOVER_CHAIN", "FAILOVER_EMBEDDING_CHAIN") and not k.endswith("_API_KEY")
    }


def test_every_example_is_checked() -> None:
    assert set(SCRIPTS) == set(EXPECTED)


def _run(*args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, *args],
        cwd=EXAMPLES,
        env=_fake_env(),
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


@pytest.mark.parametrize("script", SCRIPTS)
def test_example_runs_on_fakes(script: str) -> None:
    done = _run(script)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "running on local fake" in done.stdout or script == "outage_drill.py"
    assert EXPECTED[script] in done.stdout


def test_the_example_test_file_passes() -> None:
    done = _run("-m", "pytest", "-q", "-p", "no:cacheprovider", "test_your_app.py")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "2 passed" in done.stdout
