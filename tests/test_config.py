"""Configuration from the environment: every bad setting is named before any request."""

from __future__ import annotations

import pytest
from hypothesis import given
from hypothesis import strategies as st

from failover import ConfigError, Failover, Policy, Target
from failover._config.env import config_from_env, policy_from_env, resolve_target
from failover._config.policy import ENV_NAMES
from failover.testing import FakeProvider

KEYS = {"OPENAI_API_KEY": "sk-test-openai-0000", "ANTHROPIC_API_KEY": "sk-ant-test-0000"}


def env(**extra: str) -> dict[str, str]:
    return {**KEYS, "FAILOVER_CHAIN": "openai/gpt-4o-mini", **extra}


def test_chain_and_builtin_providers() -> None:
    targets, policy = config_from_env(
        env(
            FAILOVER_CHAIN=" openai/gpt-4o-mini , anthropic/claude-haiku-4-5,"
            "openrouter/meta-llama/llama-3-70b, ollama/llama3.2",
            OPENROUTER_API_KEY="sk-or-test-0000",
        )
    )
    assert [t.label for t in targets] == [
        "openai/gpt-4o-mini",
        "anthropic/claude-haiku-4-5",
        "openrouter/meta-llama/llama-3-70b",
        "ollama/llama3.2",
    ]
    assert [t.api for t in targets] == ["openai", "anthropic", "openai", "openai"]
    assert targets[2].model == "meta-llama/llama-3-70b"
    assert targets[2].base_url == "https://openrouter.ai/api/v1"
    assert targets[3].base_url == "http://localhost:11434/v1" and targets[3].api_key is None
    assert policy == Policy()


def test_vendor_base_url_variables() -> None:
    targets, _ = config_from_env(
        env(
            FAILOVER_CHAIN="openai/m,anthropic/m",
            OPENAI_BASE_URL="http://127.0.0.1:1/v1",
            ANTHROPIC_BASE_URL="http://127.0.0.1:2",
        )
    )
    assert [t.base_url for t in targets] == ["http://127.0.0.1:1/v1", "http://127.0.0.1:2"]


def test_custom_provider() -> None:
    target = resolve_target(
        "corp/llama",
        {
            "FAILOVER_PROVIDER_CORP_API": "anthropic",
            "FAILOVER_PROVIDER_CORP_BASE_URL": "https://llm.corp.example",
            "FAILOVER_PROVIDER_CORP_API_KEY": "corp-secret-123",
        },
    )
    assert (target.api, target.base_url, target.api_key) == (
        "anthropic",
        "https://llm.corp.example",
        "corp-secret-123",
    )


def test_azure_needs_endpoint_and_version() -> None:
    with pytest.raises(ConfigError, match="AZURE_OPENAI_ENDPOINT and OPENAI_API_VERSION"):
        resolve_target("azure/my-deployment", {"AZURE_OPENAI_API_KEY": "k" * 10})
    target = resolve_target(
        "azure/my-deployment",
        {
            "AZURE_OPENAI_API_KEY": "k" * 10,
            "AZURE_OPENAI_ENDPOINT": "https://x.openai.azure.com",
            "OPENAI_API_VERSION": "2024-10-21",
        },
    )
    assert target.azure and target.api_version == "2024-10-21"


def test_policy_knobs() -> None:
    policy = policy_from_env(
        {
            "FAILOVER_MAX_RETRIES": "4",
            "FAILOVER_BACKOFF_BASE": "0.01",
            "FAILOVER_BACKOFF_MAX": "0.5",
            "FAILOVER_TIMEOUT": "9",
            "FAILOVER_ATTEMPT_TIMEOUT": "3",
            "FAILOVER_CONNECT_TIMEOUT": "1",
            "FAILOVER_BREAKER_FAIL_MAX": "2",
            "FAILOVER_BREAKER_RESET": "7.5",
            "FAILOVER_FIRST_TOKEN_TIMEOUT": "2",
            "FAILOVER_STREAM_IDLE_TIMEOUT": "4",
            "FAILOVER_STREAM_RESUME": "1",
        }
    )
    assert policy == Policy(4, 0.01, 0.5, 9, 3, 1, 2, 7.5, 2, 4, True)


BAD = [
    (env(FAILOVER_CHAIN=""), "FAILOVER_CHAIN"),
    (env(FAILOVER_CHAIN="gpt-4o"), "FAILOVER_CHAIN"),
    (env(FAILOVER_CHAIN="nosuch/model"), "FAILOVER_PROVIDER_NOSUCH_API"),
    (env(FAILOVER_CHAIN="groq/llama"), "GROQ_API_KEY"),
    (env(FAILOVER_CHAIN="x/m", FAILOVER_PROVIDER_X_API="grpc"), "FAILOVER_PROVIDER_X_API"),
    (env(FAILOVER_CHAIN="x/m", FAILOVER_PROVIDER_X_API="openai"), "FAILOVER_PROVIDER_X_BASE_URL"),
    ({"FAILOVER_CHAIN": "openai/m"}, "OPENAI_API_KEY"),
    ({"FAILOVER_CHAIN": "anthropic/m"}, "ANTHROPIC_API_KEY"),
    (env(FAILOVER_STREAM_RESUME="maybe"), "FAILOVER_STREAM_RESUME"),
    (env(OPENAI_BASE_URL="ftp://example.com"), "OPENAI_BASE_URL"),
    (env(OPENAI_BASE_URL="https://"), "OPENAI_BASE_URL"),
    (env(FAILOVER_PROVIDER_OPENAI_BASE_URL="localhost:8000"), "FAILOVER_PROVIDER_OPENAI_BASE_URL"),
    (env(FAILOVER_BREAKER_FAIL_MAX="0"), "FAILOVER_BREAKER_FAIL_MAX"),
    (env(FAILOVER_TIMEOUT="0"), "FAILOVER_TIMEOUT"),
] + [
    (env(**{var: value}), var)
    for var in ENV_NAMES.values()
    if var != "FAILOVER_STREAM_RESUME"
    for value in ("abc", "-1", "nan", "inf")
]


@pytest.mark.parametrize(("environ", "named"), BAD)
def test_bad_settings_name_the_variable(environ: dict[str, str], named: str) -> None:
    with pytest.raises(ConfigError) as info:
        Failover.from_env(environ)
    assert named in str(info.value)
    # The variable is also an attribute, for tools (failover doctor); an unknown provider
    # is a fault of the chain item, whose message says how to define the provider.
    assert info.value.variable == ("FAILOVER_CHAIN" if "NOSUCH" in named else named)
    assert isinstance(info.value, ValueError)
    for secret in KEYS.values():
        assert secret not in str(info.value)


def test_code_configuration_errors_name_the_field() -> None:
    with pytest.raises(ConfigError, match="FAILOVER_MAX_RETRIES"):
        Policy(max_retries=-1)
    with pytest.raises(ConfigError, match=r"Target\.api"):
        Target("x", "m", api="grpc")  # type: ignore[arg-type]
    with pytest.raises(ConfigError, match="at least one target"):
        Failover([])


CUSTOM = {
    "FAILOVER_PROVIDER_PRIMARY_API": "openai",
    "FAILOVER_PROVIDER_PRIMARY_BASE_URL": "http://127.0.0.1:9/v1",
}


@pytest.mark.parametrize(
    ("chain", "named"),
    [
        ("primary/model-a,primary/model-a", "primary/model-a"),
        ("primary/model-a, anthropic/claude ,primary/model-a", "primary/model-a"),
        ("openai/gpt-4o-mini,openai/gpt-4o-mini", "openai/gpt-4o-mini"),
    ],
)
def test_a_target_named_twice_is_refused_from_the_environment(chain: str, named: str) -> None:
    with pytest.raises(ConfigError, match="FAILOVER_CHAIN names " + named + " twice"):
        Failover.from_env(env(FAILOVER_CHAIN=chain, **CUSTOM))


def test_a_target_named_twice_is_refused_in_code() -> None:
    key = KEYS["OPENAI_API_KEY"]
    same = Target("openai", "gpt-4o-mini", api_key=key)
    spelled_out = Target(
        "openai", "gpt-4o-mini", base_url="https://api.openai.com/v1/", api_key=key
    )
    with pytest.raises(ConfigError, match="chain names openai/gpt-4o-mini twice") as info:
        Failover([same, spelled_out])  # the SDK's default URL, written out, is the same
    assert key not in str(info.value)
    with pytest.raises(ConfigError, match="names primary/model-a twice"):
        Failover(["primary/model-a", "primary/model-a"], env=CUSTOM)
    # One model under two keys (two organisations' quotas) is two targets.
    other_key = Target("openai", "gpt-4o-mini", api_key="sk-test-other-0000")
    with Failover([same, other_key]) as client:
        assert len(client.targets) == 2


def test_target_repr_has_no_key() -> None:
    target = Target("openai", "m", api_key="sk-supersecret-000000")
    assert "supersecret" not in repr(target) and "supersecret" not in str(target)


# Chain syntax: "," separates items and "=" the model a deployment serves.
_MODEL = st.text(
    st.characters(blacklist_characters=",=", blacklist_categories=["Cs", "Zs", "Cc"]),
    min_size=1,
    max_size=40,
)


@given(provider=st.sampled_from(["openai", "anthropic", "ollama", "vllm"]), model=_MODEL)
def test_chain_item_split_on_first_slash(provider: str, model: str) -> None:
    target = resolve_target(f"{provider}/{model}", KEYS)
    assert target.provider == provider and target.model == model.strip()
    assert target.serves is None and target.served_model == model.strip()


@given(model=_MODEL, serves=_MODEL.filter(lambda m: "/" not in m and m.strip()))
def test_chain_item_names_the_model_a_deployment_serves(model: str, serves: str) -> None:
    target = resolve_target(f"ollama/{model}={serves}", KEYS)
    assert target.model == model.strip() and target.served_model == serves.strip()


@given(st.floats(min_value=0, max_value=1e9, allow_nan=False, allow_infinity=False))
def test_numeric_knobs_roundtrip(value: float) -> None:
    assert policy_from_env({"FAILOVER_BACKOFF_MAX": repr(value)}).backoff_max == value


@given(st.text(max_size=10))
def test_numeric_knob_garbage_is_rejected_or_parsed(raw: str) -> None:
    try:
        policy = policy_from_env({"FAILOVER_ATTEMPT_TIMEOUT": raw})
    except ConfigError as exc:
        assert "FAILOVER_ATTEMPT_TIMEOUT" in str(exc)
    else:
        assert policy.attempt_timeout > 0


def test_a_server_of_ones_own_named_local_is_called_once_its_api_is_said(
    primary: FakeProvider,
) -> None:
    own = {
        "FAILOVER_CHAIN": "local/small",
        "FAILOVER_PROVIDER_LOCAL_API": "openai",
        "FAILOVER_PROVIDER_LOCAL_BASE_URL": primary.base_url,
        "FAILOVER_PROVIDER_LOCAL_API_KEY": "sk-own-server-0000",
    }
    (made,), _ = config_from_env(own)
    # An HTTP server, not the model in process; and no 'local' tag vouched for it.
    assert (made.api, made.in_process, made.tags) == ("openai", False, frozenset())
    with Failover.from_env(own) as client:
        answer = client.chat.completions.create(messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "primary answer"
    assert [r.body["model"] for r in primary.requests] == ["small"]


@pytest.mark.parametrize("setting", ["BASE_URL", "API_KEY"])
def test_a_url_or_key_for_the_model_in_process_names_the_missing_api(setting: str) -> None:
    stray = {"FAILOVER_CHAIN": "local/small", f"FAILOVER_PROVIDER_LOCAL_{setting}": "x"}
    with pytest.raises(ConfigError) as caught:
        config_from_env(stray)
    assert caught.value.variable == "FAILOVER_PROVIDER_LOCAL_API"
    message = str(caught.value)
    assert f"FAILOVER_PROVIDER_LOCAL_{setting} is set" in message
    assert "model run in this process" in message and "another name" in message
    assert "packaged model" not in message  # not the model-file error it used to be
