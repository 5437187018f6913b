"""Claude on AWS Bedrock and Vertex AI, configured by each cloud's own conventions and
by failover's per-provider variables; and one model named across clouds."""

from __future__ import annotations

import io

import pytest

from failover import ConfigError, Group, Target
from failover._cli.doctor import run_doctor
from failover._config.env import chain_from_env, resolve_target

SONNET_ON_BEDROCK = "us.anthropic.claude-sonnet-5-5-20260101-v1:0"


def test_bedrock_reads_the_aws_region_and_its_bearer_token() -> None:
    env = {"AWS_REGION": "us-west-2", "AWS_BEARER_TOKEN_BEDROCK": "bedrock-token-0000"}
    target = resolve_target(f"bedrock/{SONNET_ON_BEDROCK}", env)
    assert (target.api, target.region, target.project) == ("bedrock", "us-west-2", None)
    assert target.model == SONNET_ON_BEDROCK and target.api_key == "bedrock-token-0000"
    assert "bedrock-token-0000" not in repr(target) and "us-west-2" in repr(target)
    # No token: AWS's credential chain signs; the default region variable serves too.
    target = resolve_target(
        "bedrock/anthropic.claude-haiku-5-5-v1:0", {"AWS_DEFAULT_REGION": "eu-west-1"}
    )
    assert (target.region, target.api_key) == ("eu-west-1", None)


def test_several_regions_of_one_cloud_in_one_chain() -> None:
    env = {
        "AWS_REGION": "us-east-1",
        "FAILOVER_PROVIDER_BEDROCK_EU_API": "bedrock",
        "FAILOVER_PROVIDER_BEDROCK_EU_REGION": "eu-central-1",
        "FAILOVER_CHAIN": f"bedrock/{SONNET_ON_BEDROCK}|bedrock-eu/{SONNET_ON_BEDROCK}",
    }
    groups, _ = chain_from_env(env)
    us, eu = groups[0]
    assert (us.region, eu.region) == ("us-east-1", "eu-central-1")
    assert us.key != eu.key  # two deployments: two breakers, two cool-downs


def test_vertex_reads_its_region_project_and_access_token() -> None:
    env = {"CLOUD_ML_REGION": "us-east5", "ANTHROPIC_VERTEX_PROJECT_ID": "my-project"}
    target = resolve_target("vertex/claude-sonnet-5-5@20260101", env)
    assert (target.api, target.region, target.project) == ("vertex", "us-east5", "my-project")
    env |= {
        "FAILOVER_PROVIDER_VERTEX_REGION": "europe-west1",
        "FAILOVER_PROVIDER_VERTEX_PROJECT": "other-project",
        "FAILOVER_PROVIDER_VERTEX_API_KEY": "ya29.token-0000",
    }
    target = resolve_target("vertex/claude-sonnet-5-5", env)
    assert (target.region, target.project) == ("europe-west1", "other-project")
    assert target.api_key == "ya29.token-0000" and "ya29" not in repr(target)


@pytest.mark.parametrize(
    ("spec", "env", "named"),
    [
        ("bedrock/m", {}, "FAILOVER_PROVIDER_BEDROCK_REGION"),
        ("vertex/m", {"ANTHROPIC_VERTEX_PROJECT_ID": "p"}, "FAILOVER_PROVIDER_VERTEX_REGION"),
        # An access token cannot name the project as Google's credentials would.
        (
            "vertex/m",
            {"CLOUD_ML_REGION": "us-east5", "FAILOVER_PROVIDER_VERTEX_API_KEY": "t"},
            "FAILOVER_PROVIDER_VERTEX_PROJECT",
        ),
        (
            "openai/m",
            {"OPENAI_API_KEY": "k", "FAILOVER_PROVIDER_OPENAI_REGION": "us-east-1"},
            "FAILOVER_PROVIDER_OPENAI_REGION",
        ),
        (
            "bedrock/m",
            {"AWS_REGION": "us-east-1", "FAILOVER_PROVIDER_BEDROCK_PROJECT": "p"},
            "FAILOVER_PROVIDER_BEDROCK_PROJECT",
        ),
        ("mine/m", {"FAILOVER_PROVIDER_MINE_API": "gcp"}, "FAILOVER_PROVIDER_MINE_API"),
    ],
)
def test_a_cloud_setting_missing_or_misplaced_names_its_variable(
    spec: str, env: dict[str, str], named: str
) -> None:
    with pytest.raises(ConfigError) as caught:
        resolve_target(spec, env)
    assert caught.value.variable == named and named in str(caught.value)


def test_in_code_a_cloud_target_needs_its_region() -> None:
    with pytest.raises(ConfigError) as caught:
        Target("bedrock", SONNET_ON_BEDROCK, api="bedrock")
    assert caught.value.variable == "region"
    with pytest.raises(ConfigError) as caught:
        Target("openai", "m", region="us-east-1")
    assert caught.value.variable == "region"
    assert Target("vertex", "m", api="vertex", region="global").key[1] == (
        "https://aiplatform.googleapis.com/v1/projects"
    )


def test_one_model_across_clouds_is_one_group_only_when_said() -> None:
    env = {"AWS_REGION": "us-east-1", "ANTHROPIC_API_KEY": "sk-ant-0000"}
    said = f"bedrock/{SONNET_ON_BEDROCK}=claude-sonnet-5-5|anthropic/claude-sonnet-5-5"
    groups, _ = chain_from_env({**env, "FAILOVER_CHAIN": said})
    assert [t.served_model for t in groups[0]] == ["claude-sonnet-5-5"] * 2
    unsaid = f"bedrock/{SONNET_ON_BEDROCK}|anthropic/claude-sonnet-5-5"
    with pytest.raises(ConfigError) as caught:
        chain_from_env({**env, "FAILOVER_CHAIN": unsaid})
    assert caught.value.variable == "FAILOVER_CHAIN" and "serves" in str(caught.value)
    with pytest.raises(ConfigError):  # in code too
        from failover import Failover

        Failover([Group("anthropic/claude-sonnet-5-5", "anthropic/claude-haiku-5-5")])


def test_doctor_shows_where_cloud_targets_run_and_no_cloud_secret() -> None:
    secret = "wJalrXUtnFEMI-K7MDENG-bPxRfiCYEXAMPLEKEY"
    env = {
        "FAILOVER_CHAIN": f"bedrock/{SONNET_ON_BEDROCK},vertex/claude-sonnet-5-5",
        "AWS_REGION": "us-east-1",
        "AWS_SECRET_ACCESS_KEY": secret,
        "CLOUD_ML_REGION": "us-east5",
        "ANTHROPIC_VERTEX_PROJECT_ID": "my-project",
    }
    out = io.StringIO()
    run_doctor(env, offline=True, out=out)
    text = out.getvalue()
    assert secret not in text
    # Neither cloud's credentials show in the environment: each is said, not failed.
    assert "AWS's credential chain" in text and "Application Default Credentials" in text
    out = io.StringIO()
    run_doctor(env, offline=True, as_json=True, out=out)
    assert secret not in out.getvalue() and '"region": "us-east5"' in out.getvalue()
