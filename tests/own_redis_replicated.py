"""Replicated Redis topologies of a test's own: a primary with a replica watched by
three sentinels, and a Redis Cluster (the processes, ports and readiness checks are
``own_redis_topologies.py``'s)."""

from __future__ import annotations

import contextlib
import dataclasses
import functools
import subprocess
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import redis

from .own_redis_topologies import (
    LOCALHOST,
    READY_WITHIN,
    _plain_client,
    _Processes,
    _server_argv,
    require_executables,
)

# ---------------------------------------------------------------------- Sentinel


@dataclasses.dataclass(frozen=True)
class SentinelSetup:
    master: str  # the name the sentinels monitor the primary under
    sentinels: list[tuple[str, int]]
    primary_port: int
    replica_port: int
    primary: subprocess.Popen[bytes]
    replica: subprocess.Popen[bytes]
    sentinel_procs: list[subprocess.Popen[bytes]]

    def sentinels_env(self) -> str:
        """The sentinels as "host:port,host:port,host:port"."""
        return ",".join(f"{host}:{port}" for host, port in self.sentinels)

    def masters_reported(self) -> list[tuple[str, int] | None]:
        """Each sentinel's answer to SENTINEL get-master-addr-by-name (None: no answer)."""
        answers: list[tuple[str, int] | None] = []
        for _, port in self.sentinels:
            try:
                with _plain_client(port) as sentinel:
                    addr = sentinel.execute_command("SENTINEL GET-MASTER-ADDR-BY-NAME", self.master)
            except (redis.RedisError, OSError):
                addr = None
            answers.append((str(addr[0]), int(addr[1])) if addr else None)
        return answers

    def kill_primary_and_wait_for_promotion(
        self, meanwhile: Callable[[], object] = lambda: time.sleep(0.02), timeout: float = 15.0
    ) -> float:
        """SIGKILL the primary; seconds until every sentinel reports the replica as the
        master (fails after ``timeout``), calling ``meanwhile`` between looks."""
        self.primary.kill()
        started = time.monotonic()
        self.primary.wait(5)
        replica = (LOCALHOST, self.replica_port)
        while True:
            answers = self.masters_reported()
            if all(answer == replica for answer in answers):
                return time.monotonic() - started
            assert time.monotonic() - started < timeout, (
                f"the sentinels did not promote the replica {replica} within {timeout} s "
                f"of killing the primary: they report {answers}"
            )
            meanwhile()


def _replication(port: int) -> dict[str, Any]:
    with _plain_client(port) as client:
        info: dict[str, Any] = client.info("replication")
        return info


def _sentinel_state(port: int, master: str, replica_port: int, sentinels: int) -> str | None:
    try:
        with _plain_client(port) as client:
            state: dict[str, Any] = client.execute_command("SENTINEL MASTER", master)
            replicas: list[dict[str, Any]] = client.execute_command("SENTINEL SLAVES", master)
    except (redis.RedisError, OSError) as error:
        return f"sentinel {port}: {error!r}"
    if state.get("flags") != "master":
        return f"sentinel {port}: master flags {state.get('flags')}"
    if int(state.get("num-other-sentinels", 0)) < sentinels - 1:
        return f"sentinel {port}: knows {state.get('num-other-sentinels')} other sentinels"
    healthy = [
        r
        for r in replicas
        if int(r.get("port", 0)) == replica_port
        and r.get("flags") == "slave"
        and r.get("master-link-status") == "ok"
    ]
    return None if healthy else f"sentinel {port}: replica not (yet) healthy: {replicas}"


@contextlib.contextmanager
def own_sentinel(tmp_path: Path, master: str = "failover-test") -> Iterator[SentinelSetup]:
    """A primary, one replica and three sentinels (quorum 2, down after 1 s), all
    ready: the replica in sync and every sentinel knowing the master, the replica and
    the other sentinels."""
    require_executables("redis-server")
    directory = tmp_path / "sentinel"
    directory.mkdir(parents=True, exist_ok=True)
    processes = _Processes(directory)
    # No 5 s wait for more replicas before a (diskless) full sync.
    sync_now = ("--repl-diskless-sync-delay", "0")
    try:
        primary_port, primary = processes.start_server(
            "primary", lambda p: _server_argv(p, directory / "primary", *sync_now), _plain_client
        )
        replica_port, replica = processes.start_server(
            "replica",
            lambda p: _server_argv(
                p, directory / "replica", *sync_now, "--replicaof", LOCALHOST, str(primary_port)
            ),
            _plain_client,
        )

        def in_sync() -> str | None:
            try:
                link = _replication(replica_port).get("master_link_status")
                seen = _replication(primary_port).get("slave0") or {}
            except (redis.RedisError, OSError) as error:
                return repr(error)
            if link == "up" and seen.get("state") == "online":
                return None
            return f"replica's link {link}, the primary sees the replica as {seen or 'nothing'}"

        # Before the sentinels start, so that their first INFO of the primary already
        # lists the replica (the next one would come 10 s later).
        processes.wait_for("replication", in_sync, READY_WITHIN)

        def sentinel_argv(index: int) -> Callable[[int], list[str]]:
            def argv(port: int) -> list[str]:
                home = directory / f"sentinel-{index}"
                home.mkdir(exist_ok=True)
                conf = home / "sentinel.conf"
                conf.write_text(
                    f"port {port}\n"
                    f"bind {LOCALHOST}\n"
                    f'dir "{home}"\n'
                    "sentinel resolve-hostnames no\n"
                    f"sentinel monitor {master} {LOCALHOST} {primary_port} 2\n"
                    f"sentinel down-after-milliseconds {master} 1000\n"
                    f"sentinel failover-timeout {master} 3000\n"
                    f"sentinel parallel-syncs {master} 1\n"
                )
                return ["redis-server", str(conf), "--sentinel"]

            return argv

        sentinel_ports: list[int] = []
        sentinel_procs: list[subprocess.Popen[bytes]] = []
        for index in range(3):
            port, proc = processes.start_server(
                f"sentinel-{index}", sentinel_argv(index), _plain_client
            )
            sentinel_ports.append(port)
            sentinel_procs.append(proc)
        for port in sentinel_ports:
            processes.wait_for(
                f"sentinel {port}",
                functools.partial(_sentinel_state, port, master, replica_port, len(sentinel_ports)),
                READY_WITHIN,
            )
        yield SentinelSetup(
            master=master,
            sentinels=[(LOCALHOST, port) for port in sentinel_ports],
            primary_port=primary_port,
            replica_port=replica_port,
            primary=primary,
            replica=replica,
            sentinel_procs=sentinel_procs,
        )
    finally:
        processes.stop()


# ----------------------------------------------------------------------- Cluster


@dataclasses.dataclass(frozen=True)
class ClusterSetup:
    url: str  # redis://127.0.0.1:P1/0, a seed node
    ports: list[int]
    procs: list[subprocess.Popen[bytes]]
    masters: int

    def master_of(self, key: str) -> int:
        """The port of the master that serves ``key``'s slot, as a live node reports it."""
        for port, proc in zip(self.ports, self.procs, strict=True):
            if proc.poll() is not None:
                continue
            with _plain_client(port) as client:
                slot = int(client.execute_command("CLUSTER KEYSLOT", key))
                for start, end, master, *_ in client.execute_command("CLUSTER SLOTS"):
                    if int(start) <= slot <= int(end):
                        return int(master[1])
        raise AssertionError(f"no live node serves the slot of {key!r}")

    def kill_master_and_wait_for_promotion(
        self,
        key: str,
        meanwhile: Callable[[], object] = lambda: time.sleep(0.05),
        timeout: float = 15.0,
    ) -> float:
        """SIGKILL the master of ``key``'s slot; seconds until a live node reports a
        replica serving that slot with the cluster whole again (fails after ``timeout``),
        calling ``meanwhile`` between looks."""
        dead = self.master_of(key)
        proc = self.procs[self.ports.index(dead)]
        proc.kill()
        started = time.monotonic()
        proc.wait(5)
        seen: object = None
        while time.monotonic() - started < timeout:
            try:
                serving = self.master_of(key)
                live = [p for p in self.ports if p != dead]
                seen = [_cluster_state(p, len(self.ports), self.masters) for p in live]
            except (redis.RedisError, OSError) as error:
                serving, seen = dead, error
            if serving != dead and seen == [None] * (len(self.ports) - 1):
                return time.monotonic() - started
            meanwhile()
        raise AssertionError(f"no replica took over from {dead} within {timeout} s: {seen}")


def _cluster_state(port: int, nodes: int, masters: int) -> str | None:
    """None when ``port`` sees ``masters`` masters serving every slot, knows ``nodes``
    nodes (a dead one is still known), and its own replication link, if any, is up."""
    try:
        with _plain_client(port) as client:
            info = client.cluster("INFO")
            link = client.info("replication").get("master_link_status", "up")
    except (redis.RedisError, OSError) as error:
        return f"node {port}: {error!r}"
    wanted = {
        "cluster_state": "ok",
        "cluster_slots_assigned": 16384,
        "cluster_slots_ok": 16384,
        "cluster_known_nodes": nodes,
        "cluster_size": masters,
    }
    wrong = {k: info.get(k) for k, v in wanted.items() if str(info.get(k)) != str(v)}
    if link != "up":
        wrong["master_link_status"] = link
    return f"node {port}: {wrong}" if wrong else None


@contextlib.contextmanager
def own_cluster(tmp_path: Path, masters: int = 3, replicas: int = 0) -> Iterator[ClusterSetup]:
    """``masters`` cluster nodes, each with ``replicas`` replicas, joined by ``redis-cli
    --cluster create``, ready: ``cluster_state:ok`` and all 16384 slots assigned on every
    node, and every replica in sync (a replica that never synced would not stand for
    election: its data would be too old by ``cluster-replica-validity-factor``)."""
    require_executables("redis-server", "redis-cli")
    directory = tmp_path / "cluster"
    directory.mkdir(parents=True, exist_ok=True)
    processes = _Processes(directory)

    def argv(port: int) -> list[str]:
        home = directory / f"node-{port}"
        return _server_argv(
            port,
            home,
            "--cluster-enabled", "yes",
            "--cluster-config-file", str(home / f"nodes-{port}.conf"),
            "--cluster-node-timeout", "2000",
            "--repl-diskless-sync-delay", "0",  # replicas sync at once, not after 5 s
        )  # fmt: skip

    try:
        ports: list[int] = []
        procs: list[subprocess.Popen[bytes]] = []
        for index in range(masters * (1 + replicas)):
            port, proc = processes.start_server(f"node-{index}", argv, _plain_client, bus=True)
            ports.append(port)
            procs.append(proc)
        nodes = [f"{LOCALHOST}:{port}" for port in ports]
        create = ["redis-cli", "--cluster", "create", *nodes]
        create += ["--cluster-replicas", str(replicas), "--cluster-yes"]
        try:
            result = subprocess.run(
                create, capture_output=True, text=True, timeout=READY_WITHIN, cwd=directory
            )
        except subprocess.TimeoutExpired as error:  # run() has killed redis-cli
            raise AssertionError(f"{' '.join(create)} hung: {error.stdout!r}") from None
        assert result.returncode == 0, (
            f"{' '.join(create)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
        for port in ports:
            processes.wait_for(
                f"cluster node {port}",
                functools.partial(_cluster_state, port, len(ports), masters),
                READY_WITHIN,
            )
        yield ClusterSetup(
            url=f"redis://{LOCALHOST}:{ports[0]}/0", ports=ports, procs=procs, masters=masters
        )
    finally:
        processes.stop()
