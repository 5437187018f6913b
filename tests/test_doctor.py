"""``failover doctor`` against fake providers: its findings, its exit status, its JSON."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys

from failover._cli.doctor import EXIT_DEGRADED, EXIT_INVALID, EXIT_NONE_USABLE, EXIT_OK, run_doctor
from failover.testing import FakeProvider, Fault, closed_port_url

from .conftest import SECRET


def _env(*fakes: FakeProvider, **extra: str) -> dict[str, str]:
    """A chain ``p0/m,p1/m,...`` with each fake defined as a custom provider."""
    env = {"FAILOVER_CHAIN": ",".join(f"p{i}/m" for i in range(len(fakes)))}
    for i, fake in enumerate(fakes):
        env[f"FAILOVER_PROVIDER_P{i}_API"] = fake.api
        env[f"FAILOVER_PROVIDER_P{i}_BASE_URL"] = fake.base_url
        env[f"FAILOVER_PROVIDER_P{i}_API_KEY"] = SECRET
    return env | extra


def _doctor(env: dict[str, str], **kwargs: bool) -> tuple[int, str]:
    out = io.StringIO()
    status = run_doctor(env, timeout=5, out=out, **kwargs)
    return status, out.getvalue()


def _line(text: str, *first: str) -> str:
    """The line whose first words are ``first`` (columns are padded to fit)."""
    return next(line for line in text.splitlines() if tuple(line.split()[: len(first)]) == first)


def test_a_good_configuration_probes_every_target_and_exits_0(
    primary: FakeProvider, secondary: FakeProvider
) -> None:
    status, text = _doctor(_env(primary, secondary))
    assert status == EXIT_OK, text
    assert " ok " in _line(text, "p0/m") and " ok " in _line(text, "p1/m")
    assert len(primary.requests) == 1 and len(secondary.requests) == 1
    # Keys are masked: the variable they came from and their last 4 characters only.
    assert "sk-…cdef (FAILOVER_PROVIDER_P0_API_KEY)" in text and SECRET not in text


def test_a_bad_number_is_named_with_its_accepted_form(primary: FakeProvider) -> None:
    status, text = _doctor(_env(primary, FAILOVER_MAX_RETRIES="abc", FAILOVER_TIMEOUT="-1"))
    assert status == EXIT_INVALID
    retries = _line(text, "error", "FAILOVER_MAX_RETRIES")
    assert "whole number >= 0" in retries and "'abc'" in retries
    # Every bad variable is reported, not only the first.
    assert "seconds >= 0" in _line(text, "error", "FAILOVER_TIMEOUT")


def test_a_missing_key_names_the_variable_to_set() -> None:
    status, text = _doctor({"FAILOVER_CHAIN": "anthropic/claude-haiku-4-5"}, offline=True)
    assert status == EXIT_INVALID
    assert "needs an API key: set ANTHROPIC_API_KEY" in _line(text, "error", "ANTHROPIC_API_KEY")
    assert "not configured" in _line(text, "anthropic/claude-haiku-4-5")


def test_an_unknown_provider_says_how_to_define_it(primary: FakeProvider) -> None:
    env = _env(primary)
    env["FAILOVER_CHAIN"] += ",acme/m1"
    status, text = _doctor(env, offline=True)
    assert status == EXIT_INVALID
    line = _line(text, "error", "FAILOVER_CHAIN")
    assert "unknown provider 'acme'" in line and "FAILOVER_PROVIDER_ACME_API" in line


def test_a_bad_base_url_is_refused_before_any_request() -> None:
    env = {
        "FAILOVER_CHAIN": "openai/gpt-4o-mini",
        "OPENAI_API_KEY": SECRET,
        "OPENAI_BASE_URL": "https://",
    }
    status, text = _doctor(env)
    assert status == EXIT_INVALID
    assert "with a host" in _line(text, "error", "OPENAI_BASE_URL")


def test_some_targets_unreachable_is_degraded_and_none_is_exit_4(
    primary: FakeProvider,
) -> None:
    gone = {
        "FAILOVER_PROVIDER_GONE_API": "openai",
        "FAILOVER_PROVIDER_GONE_BASE_URL": closed_port_url(),
    }
    env = _env(primary, **gone)
    env["FAILOVER_CHAIN"] += ",gone/m"
    status, text = _doctor(env)
    assert status == EXIT_DEGRADED, text
    assert "unreachable" in _line(text, "gone/m")
    assert "1 of 2 targets answered" in text

    env["FAILOVER_CHAIN"] = "gone/m"
    status, text = _doctor(env)
    assert status == EXIT_NONE_USABLE and "no target answered" in text


def test_a_rejected_key_is_an_auth_problem_and_is_never_printed(
    primary: FakeProvider,
) -> None:
    primary.set_mode(Fault.status(401, message=f"Incorrect API key provided: {SECRET}"))
    status, text = _doctor(_env(primary))
    assert status == EXIT_NONE_USABLE
    assert "auth problem" in _line(text, "p0/m")
    assert SECRET not in text


def test_misspelt_variables_are_warnings_with_a_suggestion(primary: FakeProvider) -> None:
    env = _env(primary, FAILOVER_MAX_RETRY="3", FAILOVER_PROVIDER_P0_BASEURL="x")
    env["FAILOVER_PROVIDER_UNUSED_API_KEY"] = SECRET
    status, text = _doctor(env, offline=True)
    # The client ignores these, so they do not make the configuration invalid.
    assert status == EXIT_OK, text
    assert "did you mean FAILOVER_MAX_RETRIES?" in _line(text, "warning", "FAILOVER_MAX_RETRY")
    assert "unknown provider setting" in _line(text, "warning", "FAILOVER_PROVIDER_P0_BASEURL")
    assert "does not use" in _line(text, "warning", "FAILOVER_PROVIDER_UNUSED_API_KEY")
    assert SECRET not in text


def test_offline_sends_nothing(primary: FakeProvider) -> None:
    status, text = _doctor(_env(primary), offline=True)
    assert status == EXIT_OK and "not probed" in text
    assert primary.requests == []


def test_a_chain_of_static_answers_only_is_not_usable() -> None:
    env = {"FAILOVER_CHAIN": "static/busy", "FAILOVER_STATIC_MESSAGE": "Back soon."}
    status, text = _doctor(env)
    assert status == EXIT_NONE_USABLE and "static answer" in text


def test_without_a_chain_it_says_what_to_set() -> None:
    status, text = _doctor({})
    assert status == EXIT_INVALID
    assert "FAILOVER_CHAIN=openai/gpt-5.4-mini" in _line(text, "error", "FAILOVER_CHAIN")


def test_json_output_parses_and_masks_keys(primary: FakeProvider) -> None:
    env = _env(primary, FAILOVER_MAX_RETRIES="abc")
    done = subprocess.run(
        [sys.executable, "-m", "failover", "doctor", "--json"],
        env={k: v for k, v in os.environ.items() if not k.startswith("FAILOVER_")} | env,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == EXIT_INVALID, done.stderr
    doc = json.loads(done.stdout)
    assert doc["exit_status"] == EXIT_INVALID and doc["valid"] is False
    assert doc["problems"][0]["variable"] == "FAILOVER_MAX_RETRIES"
    (row,) = doc["targets"]
    assert row["status"] == "ok" and row["key"] == "sk-…cdef"
    assert SECRET not in done.stdout


def test_a_malformed_redis_url_is_an_error_and_an_absent_redis_a_warning(
    primary: FakeProvider,
) -> None:
    status, text = _doctor(_env(primary, FAILOVER_REDIS_URL="http://localhost:6379"))
    assert status == EXIT_INVALID
    assert "redis://" in _line(text, "error", "FAILOVER_REDIS_URL")
    absent = closed_port_url().replace("http://", "redis://").removesuffix("/v1")
    status, text = _doctor(_env(primary, FAILOVER_REDIS_URL=absent))
    # Shared health without Redis still works, each process on its own.
    assert status == EXIT_OK, text
    assert "does not answer" in _line(text, "warning", "FAILOVER_REDIS_URL")
