"""The Dec 26 2024 pair: an Azure OpenAI deployment fails, the same model on OpenAI answers.

Real use (the Azure deployment first, OpenAI direct second; keys in the usual variables):
    FAILOVER_CHAIN=azure/<your-deployment>,openai/gpt-5.5
    AZURE_OPENAI_ENDPOINT=https://<resource>.openai.azure.com  AZURE_OPENAI_API_KEY=...
    OPENAI_API_VERSION=2024-10-21  OPENAI_API_KEY=...
With FAILOVER_CHAIN unset, it runs on local fakes: an Azure-shaped fake whose deployment
answers "internal server error" (as on Dec 26 2024), and a healthy OpenAI-shaped fake.
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from failover import Failover
from failover.testing import FakeProvider, Fault


@contextlib.contextmanager
def environment() -> Iterator[Mapping[str, str]]:
    if os.environ.get("FAILOVER_CHAIN"):
        print(f"Using real providers: FAILOVER_CHAIN={os.environ['FAILOVER_CHAIN']}")
        yield os.environ
        return
    print("FAILOVER_CHAIN is not set: running on local fake providers (no keys, no network).")
    with (
        FakeProvider("azure", deployment="gpt-55-prod", name="azure") as azure,
        FakeProvider("openai", reply="Hello from the (fake) OpenAI API.") as openai,
    ):
        azure.set_mode(Fault.status(500))
        yield {
            "FAILOVER_CHAIN": "azure/gpt-55-prod,openai/gpt-5.5",
            "AZURE_OPENAI_ENDPOINT": azure.base_url,
            "AZURE_OPENAI_API_KEY": "fake-azure-key",
            "OPENAI_API_VERSION": "2024-10-21",
            "OPENAI_BASE_URL": openai.base_url,
            "OPENAI_API_KEY": "fake-openai-key",
            # Short waits keep the demo quick; the defaults suit production.
            "FAILOVER_MAX_RETRIES": "1",
            "FAILOVER_BACKOFF_BASE": "0.05",
        }
        print(f"the Azure deployment received {len(azure.requests)} requests, all failed")


with environment() as env, Failover.from_env(env) as client:
    report = client.chat.completions.with_report.create(
        messages=[{"role": "user", "content": "Are you still there?"}]
    )
    print(report.response.choices[0].message.content)
    print(f"answered by {report.target}")
    for attempt in report.attempts:
        print("  ", attempt.describe())
