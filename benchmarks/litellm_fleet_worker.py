"""LiteLLM's side of the fleet benchmark. RUNS INSIDE benchmarks/.venv-litellm ONLY.

The protocol of ``failover.drill._fleet``'s worker: the spec as one JSON line on stdin,
``ready`` once the Router is built, then ``{"t0": ...}``, then calls in a loop from t0
for ``seconds``, and the result as JSON on stdout. The Router gets the same breaker
figures as failover (``allowed_fails`` = fail_max, ``cooldown_time`` = reset), no
retries in place, a fallback to the backup, and Redis for its shared cooldowns.
"""

from __future__ import annotations

import json
import logging
import os
import sys
import time
from typing import Any
from urllib.parse import urlsplit

import litellm  # type: ignore[import-not-found, unused-ignore]

MESSAGES = [{"role": "user", "content": "Status?"}]


def main() -> int:
    out = os.fdopen(os.dup(1), "w", buffering=1)  # the protocol; LiteLLM's prints -> stderr
    os.dup2(2, 1)
    litellm.suppress_debug_info = True
    logging.disable(logging.WARNING)
    spec: dict[str, Any] = json.loads(sys.stdin.readline())
    model_list = [
        {
            "model_name": t["name"],
            "litellm_params": {"model": "openai/m", "api_base": t["base_url"], "api_key": "x"},
        }
        for t in spec["chain"]
    ]
    policy = spec["policy"]
    options: dict[str, Any] = {
        "num_retries": 0,
        "allowed_fails": policy["breaker_fail_max"],
        "cooldown_time": policy["breaker_reset"],
        "timeout": policy["attempt_timeout"],
    }
    if spec["redis_url"]:
        url = urlsplit(spec["redis_url"])
        options |= {"redis_host": url.hostname, "redis_port": url.port or 6379}
    router = litellm.Router(model_list=model_list, fallbacks=[{"primary": ["backup"]}], **options)
    out.write("ready\n")
    t0 = float(json.loads(sys.stdin.readline())["t0"])
    time.sleep(max(0.0, t0 - time.time()))
    answered, failed, slowest = 0, 0, 0.0
    errors: list[str] = []
    while time.time() < t0 + spec["seconds"]:
        started = time.monotonic()
        try:
            router.completion(model="primary", messages=MESSAGES)
            answered += 1
        except Exception as exc:
            failed += 1
            errors = [*errors, f"{type(exc).__name__}: {str(exc)[:100]}"][-5:]
        slowest = max(slowest, time.monotonic() - started)
    run = {"answered": answered, "failed": failed, "slowest_s": slowest, "errors": errors}
    out.write(json.dumps(run) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
