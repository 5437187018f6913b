"""TargetHealth: pybreaker counting plus one half-open probe, cool-downs and retry times."""

from __future__ import annotations

import threading
import time

from failover._health.breaker import TargetHealth


def test_opens_after_fail_max_and_says_when() -> None:
    health = TargetHealth("t", fail_max=2, reset_timeout=30)
    for _ in range(2):
        health.record_failure(health.admit())
    assert health.state == "open"
    after = time.time()
    verdict = health.admit()
    assert not verdict.allowed and verdict.reason == "breaker_open"
    assert after + 29.99 <= verdict.retry_at <= time.time() + 30


def test_success_resets_the_count() -> None:
    health = TargetHealth("t", fail_max=2, reset_timeout=30)
    health.record_failure(health.admit())
    health.record_success(health.admit())
    health.record_failure(health.admit())
    assert health.state == "closed"


def test_half_open_lets_exactly_one_probe_through() -> None:
    health = TargetHealth("t", fail_max=1, reset_timeout=0.05)
    health.record_failure(health.admit())
    time.sleep(0.08)
    results = []
    barrier = threading.Barrier(8)

    def race() -> None:
        barrier.wait()
        results.append(health.admit())

    threads = [threading.Thread(target=race) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    probes = [r for r in results if r.allowed]
    assert len(probes) == 1 and probes[0].probe
    health.record_success(probes[0])
    assert health.state == "closed" and health.admit().allowed


def test_failed_probe_reopens() -> None:
    health = TargetHealth("t", fail_max=1, reset_timeout=0.05)
    health.record_failure(health.admit())
    time.sleep(0.08)
    probe = health.admit()
    assert probe.probe
    health.breaker.reset_timeout = 30  # reopened for long enough that a slow machine sees it
    health.record_failure(probe)
    assert health.state == "open" and not health.admit().allowed


def test_released_probe_frees_the_slot() -> None:
    health = TargetHealth("t", fail_max=1, reset_timeout=0.05)
    health.record_failure(health.admit())
    time.sleep(0.08)
    probe = health.admit()
    assert not health.admit().allowed
    health.release(probe)  # e.g. the caller was cancelled: no verdict
    assert health.admit().probe


def test_cool_down_skips_without_counting() -> None:
    health = TargetHealth("t", fail_max=1, reset_timeout=30)
    health.cool_down(0.5)  # long enough that a slow machine still sees it
    verdict = health.admit()
    assert not verdict.allowed and verdict.reason == "cooling_down"
    assert health.state == "closed"
    time.sleep(0.55)
    assert health.admit().allowed
