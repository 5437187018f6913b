"""Real Redis servers of a test's own, and TLS (Sentinel and Cluster are in
``own_redis_replicated.py``, on the same process handling).

Every process listens on a free port on 127.0.0.1, keeps its files (configuration,
certificates, logs) under the test's ``tmp_path`` and is ended by its pid when the
context manager exits, even if start-up failed halfway. Readiness is polled with
deadlines (never fixed sleeps); a process that dies during start-up fails at once
with the tail of its log. A port taken by someone else between picking it and
binding it is retried on another port.

Tests skip without the executables, or fail under ``FAILOVER_TEST_REQUIRE_REDIS=1``.
"""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import os
import shutil
import socket
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
import redis
from redis.backoff import NoBackoff
from redis.retry import Retry

from .own_redis import free_port

LOCALHOST = "127.0.0.1"
READY_WITHIN = 15.0  # seconds; generous for a loaded CI machine, the normal case is fast
POLL = 0.01  # seconds between readiness checks
_PORT_ATTEMPTS = 8  # a port grabbed by someone else between pick and bind is retried


def require_executables(*names: str) -> None:
    """Skip the test without ``names`` on PATH (fail under FAILOVER_TEST_REQUIRE_REDIS=1)."""
    missing = [name for name in names if shutil.which(name) is None]
    if not missing:
        return
    message = f"{', '.join(missing)} not on PATH (a real Redis topology needs it)"
    if os.environ.get("FAILOVER_TEST_REQUIRE_REDIS") == "1":
        pytest.fail(message + "; FAILOVER_TEST_REQUIRE_REDIS=1 requires it")
    pytest.skip(message)


class _PortTaken(Exception):
    """A server could not bind its port: someone took it after we picked it."""

    def __init__(self, name: str, proc: subprocess.Popen[bytes], log: str) -> None:
        super().__init__(f"{name} (pid {proc.pid}): port taken:\n{log}")
        self.proc = proc


def _tail(log: Path, lines: int = 15) -> str:
    try:
        text = log.read_text(errors="replace")
    except OSError:
        return "(no log)"
    return "\n".join(text.splitlines()[-lines:])


class _Processes:
    """The processes of one topology, each with a log under ``directory``; all are
    ended by their pid in :meth:`stop`."""

    def __init__(self, directory: Path) -> None:
        self.directory = directory
        self.started: list[tuple[str, subprocess.Popen[bytes], Path]] = []

    def spawn(self, name: str, argv: list[str]) -> subprocess.Popen[bytes]:
        log = self.directory / f"{name}.log"
        with log.open("wb") as out:
            proc = subprocess.Popen(argv, stdout=out, stderr=subprocess.STDOUT, cwd=self.directory)
        self.started.append((name, proc, log))
        return proc

    def check_alive(self) -> None:
        for name, proc, log in self.started:
            code = proc.poll()
            if code is not None:
                text = _tail(log)
                if "Address already in use" in text:
                    raise _PortTaken(name, proc, text)
                raise AssertionError(f"{name} (pid {proc.pid}) exited with {code}:\n{text}")

    def forget(self, proc: subprocess.Popen[bytes]) -> None:
        self.started = [entry for entry in self.started if entry[1] is not proc]

    def stop(self) -> None:
        for _, proc, _ in self.started:
            with contextlib.suppress(OSError):
                proc.kill()
        for _, proc, _ in self.started:
            with contextlib.suppress(subprocess.TimeoutExpired):
                proc.wait(5)

    def wait_for(self, what: str, check: Callable[[], str | None], within: float) -> None:
        """Poll ``check`` (None when ready, else a description of what is missing)
        until it holds, failing after ``within`` seconds or when a process dies."""
        deadline = time.monotonic() + within
        while True:
            self.check_alive()
            state = check()
            if state is None:
                return
            if time.monotonic() > deadline:
                raise AssertionError(f"{what} not ready within {within:.0f} s: {state}")
            time.sleep(POLL)

    def start_server(
        self,
        name: str,
        argv_for: Callable[[int], list[str]],
        client_for: Callable[[int], redis.Redis],
        *,
        bus: bool = False,
        within: float = READY_WITHIN,
    ) -> tuple[int, subprocess.Popen[bytes]]:
        """Start a server on a free port (and a free cluster bus port, port + 10000,
        when ``bus``) and wait until it answers as itself (INFO's process_id)."""
        for _ in range(_PORT_ATTEMPTS):
            port = _free_bus_port() if bus else free_port()
            proc = self.spawn(name, argv_for(port))
            try:
                with client_for(port) as client:
                    self.wait_for(name, functools.partial(_answers_as, client, proc), within)
            except _PortTaken as taken:
                if taken.proc is not proc:
                    raise AssertionError(str(taken)) from None
                self.forget(proc)
                continue
            return port, proc
        raise AssertionError(f"{name}: no free port after {_PORT_ATTEMPTS} attempts")


def _answers_as(client: redis.Redis, proc: subprocess.Popen[bytes]) -> str | None:
    try:
        pid = int(client.info("server")["process_id"])
    except (redis.RedisError, OSError) as error:
        return f"no answer ({error!r})"
    # Someone else's server on the port we picked: ours will exit (port taken).
    return None if pid == proc.pid else f"port answered by pid {pid}, not {proc.pid}"


def _free_bus_port() -> int:
    """A free port below 55535 whose cluster bus port (+10000) is free too."""
    while True:
        port = free_port()
        if port >= 55535:
            continue
        with socket.socket() as sock:
            try:
                sock.bind((LOCALHOST, port + 10000))
            except OSError:
                continue
        return port


# Readiness checks are polled: one quick try each, without redis-py's retries and backoff.
def _once() -> dict[str, Any]:
    return {"socket_timeout": 2, "socket_connect_timeout": 1, "retry": Retry(NoBackoff(), 0)}


def _plain_client(port: int) -> redis.Redis:
    return redis.Redis(host=LOCALHOST, port=port, decode_responses=True, **_once())


def _server_argv(port: int, directory: Path, *options: str) -> list[str]:
    directory.mkdir(parents=True, exist_ok=True)
    return [
        "redis-server",
        "--port",
        str(port),
        "--bind",
        LOCALHOST,
        "--dir",
        str(directory),
        "--save",
        "",
        "--appendonly",
        "no",
        *options,
    ]


# --------------------------------------------------------------------------- TLS


@dataclasses.dataclass(frozen=True)
class TlsRedis:
    url: str  # rediss://127.0.0.1:P/0
    ca: str
    client_cert: str
    client_key: str
    port: int
    proc: subprocess.Popen[bytes]


def _openssl(directory: Path, *args: str) -> None:
    result = subprocess.run(
        ["openssl", *args], cwd=directory, capture_output=True, text=True, timeout=30
    )
    assert result.returncode == 0, f"openssl {' '.join(args)} failed:\n{result.stderr}"


def _make_certificates(directory: Path) -> dict[str, Path]:
    """A self-signed CA, a server certificate for 127.0.0.1/localhost and a client
    certificate, both signed by the CA (P-256 keys: quick to make)."""
    directory.mkdir(parents=True, exist_ok=True)
    ec = ("-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes")
    _openssl(
        directory,
        "req", "-x509", *ec, "-keyout", "ca.key", "-out", "ca.crt", "-days", "2",
        "-subj", "/CN=failover-test-ca",
        "-addext", "basicConstraints=critical,CA:TRUE",
        "-addext", "keyUsage=critical,keyCertSign,cRLSign",
    )  # fmt: skip
    common = [
        "basicConstraints=CA:FALSE",
        "keyUsage=critical,digitalSignature,keyEncipherment",
        "subjectKeyIdentifier=hash",
        "authorityKeyIdentifier=keyid,issuer",
    ]
    extensions = {
        "server": [
            *common,
            "extendedKeyUsage=serverAuth",
            "subjectAltName=IP:127.0.0.1,DNS:localhost",
        ],
        "client": [*common, "extendedKeyUsage=clientAuth"],
    }
    for serial, (name, lines) in enumerate(extensions.items(), start=2):
        (directory / f"{name}.ext").write_text("\n".join(lines) + "\n")
        _openssl(
            directory,
            "req", *ec, "-keyout", f"{name}.key", "-out", f"{name}.csr",
            "-subj", f"/CN={'localhost' if name == 'server' else 'failover-test-client'}",
        )  # fmt: skip
        _openssl(
            directory,
            "x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
            "-set_serial", str(serial), "-days", "2", "-extfile", f"{name}.ext",
            "-out", f"{name}.crt",
        )  # fmt: skip
    names = ("ca.crt", "server.crt", "server.key", "client.crt", "client.key")
    return {name: directory / name for name in names}


@contextlib.contextmanager
def own_tls_redis(tmp_path: Path, *, client_certs: bool = False) -> Iterator[TlsRedis]:
    """A redis-server that speaks only TLS (``--port 0``), with a CA, server and client
    certificates made by ``openssl`` under ``tmp_path``; ``client_certs`` makes the
    server require a client certificate (``--tls-auth-clients yes``)."""
    require_executables("redis-server", "openssl")
    directory = tmp_path / "tls-redis"
    files = _make_certificates(directory / "certs")
    processes = _Processes(directory)

    def argv(port: int) -> list[str]:
        return [
            "redis-server",
            "--port", "0",
            "--tls-port", str(port),
            "--bind", LOCALHOST,
            "--dir", str(directory),
            "--save", "",
            "--appendonly", "no",
            "--tls-cert-file", str(files["server.crt"]),
            "--tls-key-file", str(files["server.key"]),
            "--tls-ca-cert-file", str(files["ca.crt"]),
            "--tls-auth-clients", "yes" if client_certs else "no",
        ]  # fmt: skip

    def client(port: int) -> redis.Redis:
        return redis.Redis(
            host=LOCALHOST,
            port=port,
            ssl=True,
            ssl_ca_certs=str(files["ca.crt"]),
            ssl_certfile=str(files["client.crt"]),
            ssl_keyfile=str(files["client.key"]),
            **_once(),
        )

    try:
        port, proc = processes.start_server("tls-redis", argv, client)
        yield TlsRedis(
            url=f"rediss://{LOCALHOST}:{port}/0",
            ca=str(files["ca.crt"]),
            client_cert=str(files["client.crt"]),
            client_key=str(files["client.key"]),
            port=port,
            proc=proc,
        )
    finally:
        processes.stop()
