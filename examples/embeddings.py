"""Embeddings with failover, to the same model only.

Real use: list targets that serve one embedding model, e.g.
    FAILOVER_CHAIN=openai/gpt-5.4-mini
    FAILOVER_EMBEDDING_CHAIN=azure/emb-prod=text-embedding-3-small,openai/text-embedding-3-small
(``azure/<deployment>=<model>`` says which model an Azure deployment serves). With
FAILOVER_EMBEDDING_CHAIN unset, it runs on two local fakes serving the same model; the
first is down, and the second answers with the very vectors the first would have.
"""

from __future__ import annotations

import os

from failover import ConfigError, Failover, Policy, Target
from failover.testing import FakeProvider, Fault

MODEL = "text-embedding-3-small"
DOCUMENTS = ["The cat sat on the mat.", "Failover keeps answering during outages."]
# Short waits keep the demo quick; the defaults suit production.
policy = Policy(max_retries=1, backoff_base=0.05, timeout=30)

if os.environ.get("FAILOVER_EMBEDDING_CHAIN"):
    print(
        f"Using real providers: FAILOVER_EMBEDDING_CHAIN={os.environ['FAILOVER_EMBEDDING_CHAIN']}"
    )
    with Failover.from_env() as client:
        report = client.embeddings.with_report.create(input=DOCUMENTS)
        print(f"{len(report.response.data)} vectors from {report.target}")
else:
    print("FAILOVER_EMBEDDING_CHAIN is not set: running on local fakes (no keys, no network).")
    with FakeProvider("openai") as first, FakeProvider("openai") as second:
        first.set_mode(Fault.status(503))
        chain = [
            Target("openai", MODEL, base_url=first.base_url, api_key="fake"),
            Target("azure-eu", "emb-prod", base_url=second.base_url, api_key="fake", serves=MODEL),
        ]
        # A retrieval app: a chat model answers from what the embeddings retrieve.
        chat = [Target("openai", "gpt-5.4-mini", base_url=second.base_url, api_key="fake")]
        with Failover(chat, policy=policy, embedding_chain=chain) as client:
            report = client.embeddings.with_report.create(input=DOCUMENTS, dimensions=64)
        sizes = sorted({len(item.embedding) for item in report.response.data})
        print(f"{len(report.response.data)} vectors of {sizes[0]} floats from {report.target}")
        for attempt in report.attempts:
            print("  ", attempt.describe())
        try:  # a chain that would mix two models' vectors in one index
            mixed = [chain[0], Target("openai", "text-embedding-3-large", api_key="fake")]
            Failover(chat, embedding_chain=mixed)
        except ConfigError as exc:
            print(f"refused: {str(exc).split(': vectors')[0]}")
