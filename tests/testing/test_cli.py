"""``failover fake-server`` as a real subprocess, driven with the real SDKs."""

from __future__ import annotations

import argparse
import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import anthropic
import httpx2
import openai
import pytest

import failover
from failover.testing._cli import add_fake_server_parser, main

SRC = str(Path(failover.__file__).parent.parent)


def python_env() -> dict[str, str]:
    """The environment for a child Python that imports this checkout of failover."""
    path = os.pathsep.join(p for p in (SRC, os.environ.get("PYTHONPATH")) if p)
    return {**os.environ, "PYTHONPATH": path}


@contextmanager
def fake_server(*args: str) -> Iterator[tuple[str, subprocess.Popen[str]]]:
    """Run the CLI on a free port (``--port 0``); yield its base_url and the process."""
    command = [sys.executable, "-m", "failover.testing._cli", "fake-server", "--port", "0", *args]
    with subprocess.Popen(
        command, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=python_env()
    ) as process:  # closes the pipes and waits on exit
        try:
            assert process.stdout is not None and process.stderr is not None
            banner = process.stdout.readline()  # printed once the server accepts requests
            assert "base_url=" in banner, banner + process.stderr.read()
            yield banner.rsplit("base_url=", 1)[1].strip(), process
        finally:
            if process.poll() is None:
                process.send_signal(signal.SIGTERM)
            process.wait(timeout=10)


def test_fake_server_answers_then_stops_on_sigterm() -> None:
    with fake_server(
        "--api", "openai", "--enqueue", "status=503;retry_after=1", "--reply", "from the cli"
    ) as (base_url, process):
        with httpx2.Client() as http:
            client = openai.OpenAI(api_key="k", base_url=base_url, max_retries=0, http_client=http)
            messages: Any = [{"role": "user", "content": "hi"}]
            with pytest.raises(openai.InternalServerError) as failure:
                client.chat.completions.create(model="m", messages=messages)
            assert failure.value.response.headers["retry-after"] == "1"
            answer = client.chat.completions.create(model="m", messages=messages)
            assert answer.choices[0].message.content == "from the cli"
        process.send_signal(signal.SIGTERM)
        out, _ = process.communicate(timeout=10)
    assert process.returncode == 0
    assert out.splitlines() == [
        "POST /v1/chat/completions -> status=503;retry_after=1",
        "POST /v1/chat/completions -> ok",
    ]


def test_fake_server_standing_mode_for_anthropic() -> None:
    with (
        fake_server("--api", "anthropic", "--mode", "overloaded", "--quiet") as (base_url, _),
        httpx2.Client() as http,
    ):
        client = anthropic.Anthropic(
            api_key="k", base_url=base_url, max_retries=0, http_client=http
        )
        with pytest.raises(anthropic.OverloadedError):
            client.messages.create(
                model="m", max_tokens=5, messages=[{"role": "user", "content": "hi"}]
            )


def parse(*argv: str) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="failover")
    add_fake_server_parser(parser.add_subparsers(dest="command"))
    return parser.parse_args(["fake-server", *argv])


def test_parser_reads_modes_schedules_and_queues() -> None:
    args = parse(
        "--api",
        "anthropic",
        "--mode",
        "status=503@0.3",
        "--enqueue",
        "cut=2",
        "--enqueue",
        "reset",
        "--schedule",
        "1:ok,2:hang",
        "--seed",
        "4",
        "--loop",
    )
    assert (args.api, args.port, args.seed, args.loop) == ("anthropic", 8080, 4, True)
    assert args.mode.rate == 0.3 and str(args.mode.fault) == "status=503"
    assert [str(f) for f in args.enqueue] == ["cut=2", "reset"]
    assert args.func.__name__ == "run_fake_server"


def test_bad_specs_are_usage_errors(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        parse("--enqueue", "teapot")
    assert exit_info.value.code == 2
    assert "teapot" in capsys.readouterr().err


def test_a_rated_mode_and_a_schedule_do_not_mix(capsys: pytest.CaptureFixture[str]) -> None:
    status = main(["fake-server", "--port", "0", "--mode", "reset@0.5", "--schedule", "1:ok"])
    assert status == 1
    assert "cannot be combined" in capsys.readouterr().err
