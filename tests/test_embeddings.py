"""Embeddings with failover, to the same model only: through the real openai SDK to the
fakes' embeddings endpoint."""

from __future__ import annotations

import dataclasses
import io
from collections.abc import Iterator

import pytest
from openai.types import CreateEmbeddingResponse, Embedding
from openai.types.create_embedding_response import Usage

from failover import (
    AsyncFailover,
    ConfigError,
    ErrorKind,
    Failover,
    Outcome,
    RequestRejected,
    Target,
)
from failover._adapters._errors import ProviderFault
from failover._adapters.chunks import checked_embeddings
from failover.testing import FakeProvider, Fault

from .conftest import FAST, target

MODEL = "text-embedding-3-small"
ONCE = dataclasses.replace(FAST, max_retries=0)


@pytest.fixture
def second() -> Iterator[FakeProvider]:
    with FakeProvider("openai", name="second") as fake:
        yield fake


def _pair(primary: FakeProvider, second: FakeProvider) -> list[Target]:
    return [target(primary, "primary", MODEL), target(second, "second", MODEL)]


def test_a_failed_target_falls_back_to_another_serving_the_same_model(
    primary: FakeProvider, second: FakeProvider
) -> None:
    primary.set_mode(Fault.status(503))
    chain = [target(primary, "chat")]
    with Failover(chain, policy=ONCE, embedding_chain=_pair(primary, second)) as client:
        report = client.embeddings.with_report.create(input=["a cat", "a dog"], dimensions=16)
    assert report.target == f"second/{MODEL}"
    assert [a.outcome for a in report.attempts] == [Outcome.FAILED, Outcome.OK]
    vectors = [item.embedding for item in report.response.data]
    assert len(vectors) == 2 and all(len(v) == 16 for v in vectors)
    assert report.response.model == MODEL
    sent = second.requests[0]
    assert sent.path == "/v1/embeddings" and sent.body["model"] == MODEL
    assert sent.body["dimensions"] == 16


def test_both_targets_give_the_same_vectors_for_the_same_model(
    primary: FakeProvider, second: FakeProvider
) -> None:
    with Failover([target(primary)], policy=ONCE, embedding_chain=_pair(primary, second)) as client:
        first = client.embeddings.create(input="hello").data[0].embedding
        primary.set_mode(Fault.reset())
        again = client.embeddings.create(input="hello").data[0].embedding
    assert first == again and len(second.requests) == 1


def test_a_chain_that_mixes_models_is_refused_naming_both(
    primary: FakeProvider, second: FakeProvider, secondary: FakeProvider
) -> None:
    mixed = [target(primary, "a", MODEL), target(second, "b", "text-embedding-3-large")]
    with pytest.raises(ConfigError, match="model") as info:
        Failover([target(primary)], embedding_chain=mixed)
    assert MODEL in str(info.value) and "text-embedding-3-large" in str(info.value)
    with pytest.raises(ConfigError, match="no embeddings API"):
        Failover([target(primary)], embedding_chain=[target(secondary, "c", MODEL)])
    env = {
        "FAILOVER_CHAIN": "ollama/llama3.2",
        "FAILOVER_EMBEDDING_CHAIN": "ollama/nomic-embed-text,vllm/bge-m3",
    }
    with pytest.raises(ConfigError, match="nomic-embed-text") as from_env:
        Failover.from_env(env)
    assert from_env.value.variable == "FAILOVER_EMBEDDING_CHAIN"
    assert len(primary.requests) == len(second.requests) == 0


def test_an_azure_deployment_says_which_model_it_serves(primary: FakeProvider) -> None:
    env = {
        "FAILOVER_CHAIN": "ollama/llama3.2",
        "FAILOVER_EMBEDDING_CHAIN": f"azure/emb-prod={MODEL},openai/{MODEL}",
        "AZURE_OPENAI_API_KEY": "k",
        "AZURE_OPENAI_ENDPOINT": "https://example.openai.azure.com",
        "OPENAI_API_VERSION": "2024-10-21",
        "OPENAI_API_KEY": "k",
        "OPENAI_BASE_URL": primary.base_url,
    }
    with Failover.from_env(env) as client:
        assert [s.target for s in client.health()][1:] == ["azure/emb-prod", f"openai/{MODEL}"]
    without = {**env, "FAILOVER_EMBEDDING_CHAIN": f"azure/emb-prod,openai/{MODEL}"}
    with pytest.raises(ConfigError, match="azure/<deployment>=<model>"):
        Failover.from_env(without)


def test_a_400_is_not_forwarded(primary: FakeProvider, second: FakeProvider) -> None:
    primary.enqueue(Fault.status(400))
    with (
        Failover([target(primary)], embedding_chain=_pair(primary, second)) as client,
        pytest.raises(RequestRejected) as info,
    ):
        client.embeddings.create(input="too long")
    assert info.value.attempts[-1].status == 400 and len(second.requests) == 0


def test_a_short_vector_is_a_bad_answer_that_fails_over(
    primary: FakeProvider, second: FakeProvider
) -> None:
    short = FakeProvider("openai", embedding_dimensions=3).start()
    chain = [target(short, "short", MODEL), target(second, "second", MODEL)]
    try:
        with Failover([target(primary)], policy=ONCE, embedding_chain=chain) as client:
            report = client.embeddings.with_report.create(input="x")  # no dimensions asked
            assert report.target == f"short/{MODEL}"  # one size, whatever it is, is fine
            # A target whose vectors are not the size asked for would corrupt the index.
            short.set_mode(Fault.empty_choices())
            report = client.embeddings.with_report.create(input="x", dimensions=3)
    finally:
        short.stop()
    assert report.target == f"second/{MODEL}"
    assert report.attempts[0].error is ErrorKind.MALFORMED


async def test_async_embeddings_fail_over_too(primary: FakeProvider, second: FakeProvider) -> None:
    primary.set_mode(Fault.status(500))
    async with AsyncFailover(
        [target(primary)], policy=ONCE, embedding_chain=_pair(primary, second)
    ) as client:
        answer = await client.embeddings.create(input=["one", "two", "three"])
    assert len(answer.data) == 3 and len(second.requests) == 1


def test_a_client_without_an_embedding_chain_names_the_variable(primary: FakeProvider) -> None:
    with (
        Failover([target(primary)]) as client,
        pytest.raises(ConfigError) as info,
    ):
        client.embeddings.create(input="x")
    assert info.value.variable == "FAILOVER_EMBEDDING_CHAIN"


@pytest.mark.parametrize(
    ("vectors", "params", "why"),
    [
        ([[0.1, 0.2], [0.3]], {"input": ["a", "b"]}, "sizes"),
        ([[0.1, 0.2]], {"input": "a", "dimensions": 3}, "sizes"),
        ([[0.1, 0.2]], {"input": ["a", "b"]}, "1 embeddings for 2 inputs"),
        ([[]], {"input": "a"}, "sizes"),
    ],
)
def test_answers_that_would_corrupt_an_index_are_bad_answers(
    vectors: list[list[float]], params: dict[str, object], why: str
) -> None:
    answer = CreateEmbeddingResponse(
        object="list",
        model=MODEL,
        usage=Usage(prompt_tokens=1, total_tokens=1),
        data=[Embedding(object="embedding", index=i, embedding=v) for i, v in enumerate(vectors)],
    )
    with pytest.raises(ProviderFault, match=why):
        checked_embeddings(answer, params)
    good = dict(params, input=["a"] * len(vectors), dimensions=None)
    if len({len(v) for v in vectors}) == 1 and vectors[0]:
        assert checked_embeddings(answer, good) is answer


def test_doctor_checks_the_embedding_chain() -> None:
    from failover._cli.doctor import run_doctor

    env = {
        "FAILOVER_CHAIN": "ollama/llama3.2",
        "FAILOVER_EMBEDDING_CHAIN": "ollama/nomic-embed-text,vllm/bge-m3",
    }
    out = io.StringIO()
    assert run_doctor(env, offline=True, out=out) == 3
    assert "FAILOVER_EMBEDDING_CHAIN mixes model 'nomic-embed-text'" in out.getvalue()
    env["FAILOVER_EMBEDDING_CHAIN"] = "ollama/nomic-embed-text,vllm/nomic-embed-text"
    out = io.StringIO()
    assert run_doctor(env, offline=True, out=out) == 0, out.getvalue()
