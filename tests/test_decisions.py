"""The decision table: every kind has a rule, and classify() maps failures correctly."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta
from email.utils import format_datetime

import pytest
from hypothesis import given
from hypothesis import strategies as st

from failover._adapters._errors import MAX_RETRY_AFTER, parse_retry_after
from failover._core.decisions import RULES, ErrorKind, Failure, classify, rule_for

# The table, written out independently of the implementation's RULES.
EXPECTED = {
    # kind: (retry same target, fail over, counts for the breaker)
    ErrorKind.SERVER_ERROR: (True, True, True),
    ErrorKind.OVERLOADED: (True, True, True),
    ErrorKind.REQUEST_TIMEOUT: (True, True, True),
    ErrorKind.CONNECTION: (True, True, True),
    ErrorKind.TIMEOUT: (True, True, True),
    ErrorKind.MALFORMED: (True, True, True),
    ErrorKind.RATE_LIMIT: (True, True, False),
    ErrorKind.QUOTA: (False, True, False),
    ErrorKind.AUTH: (False, True, False),
    ErrorKind.NOT_FOUND: (False, True, False),
    ErrorKind.BAD_REQUEST: (False, False, False),
    ErrorKind.CONTEXT_LENGTH: (False, True, False),
    ErrorKind.CONTENT_FILTER: (False, False, False),
    ErrorKind.STREAM_CUT: (False, False, True),
}


@pytest.mark.parametrize("kind", list(ErrorKind))
def test_every_kind_has_the_tabled_rule(kind: ErrorKind) -> None:
    rule = rule_for(kind)
    assert (rule.retry, rule.fail_over, rule.breaker) == EXPECTED[kind]
    # Only a hang prefers the next target over a retry (the retry is a last resort).
    assert rule.fail_over_first is (kind is ErrorKind.TIMEOUT)
    # Only a rate limit prefers an equivalent deployment of its group over a retry.
    assert rule.sibling_first is (kind is ErrorKind.RATE_LIMIT)
    assert rule.cool_down is (kind in {ErrorKind.QUOTA, ErrorKind.AUTH, ErrorKind.NOT_FOUND})


def test_table_covers_every_kind() -> None:
    assert set(RULES) == set(ErrorKind) == set(EXPECTED)


@pytest.mark.parametrize(
    ("failure", "kind"),
    [
        (Failure(status=500), ErrorKind.SERVER_ERROR),
        (Failure(status=502, message="<html>Bad Gateway</html>"), ErrorKind.SERVER_ERROR),
        (Failure(status=503), ErrorKind.SERVER_ERROR),
        (Failure(status=529, code="overloaded_error"), ErrorKind.OVERLOADED),
        (Failure(status=None, code="overloaded_error"), ErrorKind.OVERLOADED),
        (Failure(status=498, code="capacity_exceeded"), ErrorKind.OVERLOADED),
        (Failure(status=408), ErrorKind.REQUEST_TIMEOUT),
        (Failure(transport="connection"), ErrorKind.CONNECTION),
        (Failure(transport="timeout"), ErrorKind.TIMEOUT),
        (Failure(transport="malformed"), ErrorKind.MALFORMED),
        (Failure(status=429, code="rate_limit_exceeded"), ErrorKind.RATE_LIMIT),
        (Failure(status=429, code="rate_limit_error"), ErrorKind.RATE_LIMIT),
        (Failure(status=429, code="insufficient_quota"), ErrorKind.QUOTA),
        (Failure(status=429, code="enforced_spend_limit_reached"), ErrorKind.QUOTA),
        (Failure(status=429, message="enforced_spend_limit_reached for org"), ErrorKind.QUOTA),
        (Failure(status=402), ErrorKind.QUOTA),
        (Failure(status=401), ErrorKind.AUTH),
        (Failure(status=403), ErrorKind.AUTH),
        (Failure(status=404), ErrorKind.NOT_FOUND),
        (Failure(status=400), ErrorKind.BAD_REQUEST),
        (Failure(status=422), ErrorKind.BAD_REQUEST),
        (Failure(status=400, code="context_length_exceeded"), ErrorKind.CONTEXT_LENGTH),
        (
            Failure(status=400, code="invalid_request_error", message="prompt is too long: 2 > 1"),
            ErrorKind.CONTEXT_LENGTH,
        ),
        (Failure(status=400, code="content_filter"), ErrorKind.CONTENT_FILTER),
        (Failure(status=None, code="server_error"), ErrorKind.SERVER_ERROR),
        (Failure(status=409), ErrorKind.SERVER_ERROR),
        (Failure(status=500, kind=ErrorKind.TIMEOUT), ErrorKind.TIMEOUT),
    ],
)
def test_classify(failure: Failure, kind: ErrorKind) -> None:
    assert classify(failure) is kind


@given(
    status=st.one_of(st.none(), st.integers(100, 599)),
    code=st.one_of(st.none(), st.text(max_size=30)),
    message=st.text(max_size=60),
)
def test_classify_is_total(status: int | None, code: str | None, message: str) -> None:
    kind = classify(Failure(status=status, code=code, message=message))
    assert kind in RULES
    if (
        status is not None
        and status >= 500
        and status != 529
        and not code
        and "quota" not in message
    ):
        # A server error is always retried and failed over, whatever its message says.
        assert rule_for(kind).retry and rule_for(kind).fail_over


@given(st.integers(1, 599))
def test_bad_request_never_reaches_a_backup(status: int) -> None:
    kind = classify(Failure(status=status))
    if status in (400, 422):
        assert not rule_for(kind).fail_over and not rule_for(kind).retry


def test_retry_after_forms() -> None:
    now = time.time()
    assert parse_retry_after({"retry-after-ms": "1500"}) == 1.5
    assert parse_retry_after({"retry-after": "3"}) == 3.0
    assert parse_retry_after({"retry-after-ms": "250", "retry-after": "9"}) == 0.25
    date = format_datetime(datetime.fromtimestamp(now, UTC) + timedelta(seconds=30), usegmt=True)
    parsed = parse_retry_after({"retry-after": date}, now=now)
    assert parsed is not None and 28.0 <= parsed <= 31.0
    assert parse_retry_after({}) is None
    assert parse_retry_after({"retry-after": "soon"}) is None
    assert parse_retry_after({"retry-after": "-5"}) == 0.0
    for odd in ("nan", "inf", "-inf"):  # would break sleep() or disable a target forever
        assert parse_retry_after({"retry-after": odd}) is None
        assert parse_retry_after({"retry-after-ms": odd}) is None
    assert parse_retry_after({"retry-after": "1e12"}) == MAX_RETRY_AFTER


@given(st.floats(min_value=0, max_value=MAX_RETRY_AFTER, allow_nan=False))
def test_retry_after_seconds_roundtrip(seconds: float) -> None:
    assert parse_retry_after({"retry-after": repr(seconds)}) == pytest.approx(seconds)
