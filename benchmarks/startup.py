"""Start-up cost: import time and resident memory after import, fresh process each time.

Each case runs in a new interpreter that times only its import statement
(``perf_counter`` around it) and then reads VmRSS from /proc/self/status. The cases
are interleaved across repeats and one unrecorded run of each warms the bytecode
cache. Reported: medians. ``import litellm`` runs in LiteLLM's own venv, with its
model price map read locally (LITELLM_LOCAL_MODEL_COST_MAP) so it makes no network call.
"""

from __future__ import annotations

import json
import statistics
import subprocess
import sys
from typing import Any

from benchmarks._peer import PYTHON as LITELLM_PYTHON
from benchmarks._peer import peer_env

PROBE = """
import time
t = time.perf_counter()
{statement}
elapsed = time.perf_counter() - t
rss = next(int(l.split()[1]) for l in open('/proc/self/status') if l.startswith('VmRSS:'))
print({{"import_s": elapsed, "rss_kb": rss}})
"""

CASES: dict[str, tuple[str, str]] = {  # name: (interpreter, statement)
    "python (nothing)": ("main", "pass"),
    "import failover": ("main", "import failover"),
    "from failover import Failover": ("main", "from failover import Failover"),
    "import openai": ("main", "import openai"),
    "import litellm": ("litellm", "import litellm"),
}


def _measure(interpreter: str, statement: str) -> dict[str, float]:
    python = sys.executable if interpreter == "main" else str(LITELLM_PYTHON)
    env = peer_env() if interpreter == "litellm" else None
    done = subprocess.run(
        [python, "-c", PROBE.format(statement=statement)],
        capture_output=True,
        text=True,
        timeout=120,
        env=env,
        check=True,
    )
    line = done.stdout.strip().splitlines()[-1].replace("'", '"')
    result: dict[str, float] = json.loads(line)
    return result


def run(repeats: int) -> dict[str, Any]:
    for interpreter, statement in CASES.values():
        _measure(interpreter, statement)  # warm the bytecode cache
    samples: dict[str, list[dict[str, float]]] = {name: [] for name in CASES}
    for _ in range(repeats):
        for name, (interpreter, statement) in CASES.items():
            samples[name].append(_measure(interpreter, statement))
    rows: dict[str, dict[str, float]] = {}
    for name, runs in samples.items():
        rows[name] = {
            "import_ms": round(statistics.median(r["import_s"] for r in runs) * 1000, 2),
            "rss_mb": round(statistics.median(r["rss_kb"] for r in runs) / 1024, 1),
        }
    base = rows["import openai"]["import_ms"]
    for row in rows.values():
        row["vs_openai"] = round(row["import_ms"] / base, 3)
    return {"setup": {"repeats": repeats, "statistic": "median"}, "cases": rows}
