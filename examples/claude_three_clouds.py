"""The Dec 26 2024 lesson for Claude: the same model on three clouds. Anthropic's API
fails, Bedrock answers; then Bedrock fails too, and Vertex AI answers.

Real use (pip install "failover[bedrock,vertex]"; each cloud's usual credentials):
    FAILOVER_CHAIN=anthropic/claude-sonnet-5-5,bedrock/us.anthropic.claude-sonnet-5-5-20260101-v1:0,vertex/claude-sonnet-5-5
    ANTHROPIC_API_KEY=...  AWS_REGION=us-east-1 (and AWS credentials, or AWS_BEARER_TOKEN_BEDROCK)
    CLOUD_ML_REGION=us-east5  ANTHROPIC_VERTEX_PROJECT_ID=...  (and gcloud's credentials)
With FAILOVER_CHAIN unset, it runs on local fakes of the three (no keys, no network).
"""

from __future__ import annotations

import contextlib
import os
from collections.abc import Iterator, Mapping

from failover import Failover
from failover.testing import FakeProvider, Fault

BEDROCK_MODEL = "us.anthropic.claude-sonnet-5-5-20260101-v1:0"


@contextlib.contextmanager
def environment() -> Iterator[tuple[Mapping[str, str], list[FakeProvider]]]:
    if os.environ.get("FAILOVER_CHAIN"):
        print(f"Using real providers: FAILOVER_CHAIN={os.environ['FAILOVER_CHAIN']}")
        yield os.environ, []
        return
    print("FAILOVER_CHAIN is not set: running on local fake providers (no keys, no network).")
    with (
        FakeProvider("anthropic", reply="Hello from Claude on Anthropic.") as anthropic,
        FakeProvider("bedrock", reply="Hello from Claude on AWS Bedrock.") as bedrock,
        FakeProvider("vertex", reply="Hello from Claude on Vertex AI.") as vertex,
    ):
        yield (
            {
                "FAILOVER_CHAIN": f"anthropic/claude-sonnet-5-5,bedrock/{BEDROCK_MODEL},"
                "vertex/claude-sonnet-5-5",
                "ANTHROPIC_BASE_URL": anthropic.base_url,
                "ANTHROPIC_API_KEY": "fake-anthropic-key",
                "ANTHROPIC_BEDROCK_BASE_URL": bedrock.base_url,
                "AWS_BEARER_TOKEN_BEDROCK": "fake-bedrock-token",
                "AWS_REGION": "us-east-1",
                "ANTHROPIC_VERTEX_BASE_URL": vertex.base_url,
                "FAILOVER_PROVIDER_VERTEX_API_KEY": "fake-vertex-token",
                "CLOUD_ML_REGION": "us-east5",
                "ANTHROPIC_VERTEX_PROJECT_ID": "my-project",
                "FAILOVER_MAX_RETRIES": "0",  # one try per cloud keeps the demo short
            },
            [anthropic, bedrock],
        )


with environment() as (env, fakes), Failover.from_env(env) as client:
    question = [{"role": "user", "content": "Are you still there?"}]
    for outage, down in (("anthropic", fakes[:1]), ("anthropic and bedrock", fakes[:2])):
        for fake in down:  # on fakes: these clouds go down (real clouds go down by themselves)
            fake.set_mode(Fault.status(503))
        report = client.chat.completions.with_report.create(messages=question)
        print(f"{outage} down: {report.response.choices[0].message.content}")
        print(f"  answered by {report.target}")
        for attempt in report.attempts:
            print("    ", attempt.describe())
