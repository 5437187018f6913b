"""Fault, Reply and Schedule values: spec strings, validation, schedule arithmetic."""

from __future__ import annotations

import math
from dataclasses import replace

import pytest
from hypothesis import given
from hypothesis import strategies as st

from failover.testing import Fault, Phase, Reply, Schedule, ToolCall
from failover.testing._schedule import ScheduleClock

EVERY_CONSTRUCTOR = [
    Fault.status(503),
    Fault.status(
        429,
        error_code="c",
        error_type="t",
        message="m",
        retry_after=1.5,
        retry_after_ms=1500,
        should_retry=True,
        headers={"x-a": "1", "x-b": "2"},
    ),
    Fault.rate_limit(),
    Fault.rate_limit(retry_after="Wed, 21 Oct 2015 07:28:00 GMT"),
    Fault.rate_limit(retry_after_ms=250),
    Fault.quota(),
    Fault.context_length(),
    Fault.content_filter(),
    Fault.overloaded(),
    Fault.html(),
    Fault.html(504),
    Fault.hang(),
    Fault.hang(2.5),
    Fault.slow_first_byte(0.5),
    Fault.drip(0.25),
    Fault.keepalive(1.5),
    Fault.trickle(),
    Fault.trickle(0.05),
    Fault.cut(),
    Fault.cut(0),
    Fault.no_terminator(5),
    Fault.inband_error(),
    Fault.malformed_json(),
    Fault.empty_choices(),
    Fault.reset(),
]


@pytest.mark.parametrize("fault", EVERY_CONSTRUCTOR, ids=str)
def test_every_fault_round_trips_through_its_spec(fault: Fault) -> None:
    assert Fault.parse(str(fault)) == fault
    hash(fault)  # usable in sets and as dict keys


@pytest.mark.parametrize(
    ("spec", "expected"),
    [
        ("status=503", Fault.status(503)),
        (" status = 429 ; retry_after = 2 ", Fault.status(429, retry_after=2)),
        ("rate_limit;retry_after=5", Fault.rate_limit(retry_after=5)),
        ("overloaded;should_retry=false", replace(Fault.overloaded(), should_retry=False)),
        ("hang", Fault.hang()),
        ("cut=3", Fault.cut(3)),
        (
            "html=503;header=Server:cloudflare",
            replace(Fault.html(503), headers=(("Server", "cloudflare"),)),
        ),
        ("status=400;message=a=b", Fault.status(400, message="a=b")),
    ],
)
def test_parse_examples(spec: str, expected: Fault) -> None:
    assert Fault.parse(spec) == expected


@pytest.mark.parametrize(
    ("spec", "complaint"),
    [
        ("teapot", "unknown fault kind 'teapot'"),
        ("status", "needs a code"),
        ("status=abc", "bad value 'abc'"),
        ("status=99", "100-599"),
        ("quota=3", "takes no value"),
        ("drip", "needs seconds"),
        ("cut=-1", ">= 0"),
        ("status=500;colour=red", "unknown option 'colour'"),
        ("status=500;should_retry=maybe", "true or false"),
        ("status=500;header=novalue", "name:value"),
        ("status=500;flag", "key=value"),
    ],
)
def test_parse_errors_say_what_is_wrong(spec: str, complaint: str) -> None:
    with pytest.raises(ValueError, match=complaint.replace("(", r"\(")):
        Fault.parse(spec)


_text = st.text(st.characters(codec="ascii", categories=["L", "N"]), min_size=1, max_size=12)


@given(
    code=st.integers(100, 599),
    error_code=st.none() | _text,
    message=st.none() | _text,
    retry_after=st.none() | st.integers(0, 10_000) | st.just("Wed, 21 Oct 2015 07:28:00 GMT"),
    retry_after_ms=st.none() | st.integers(0, 10**6),
    should_retry=st.none() | st.booleans(),
    headers=st.dictionaries(_text, _text, max_size=3),
)
def test_status_specs_round_trip(
    code: int,
    error_code: str | None,
    message: str | None,
    retry_after: int | str | None,
    retry_after_ms: int | None,
    should_retry: bool | None,
    headers: dict[str, str],
) -> None:
    fault = Fault.status(
        code,
        error_code=error_code,
        message=message,
        retry_after=retry_after,
        retry_after_ms=retry_after_ms,
        should_retry=should_retry,
        headers=headers,
    )
    assert Fault.parse(str(fault)) == fault


def test_fault_headers_put_retry_hints_first() -> None:
    fault = Fault.status(
        503, retry_after=2.5, retry_after_ms=2500, should_retry=True, headers={"X-Trace": "t"}
    )
    assert fault.header_items() == [
        ("retry-after", "2.5"),
        ("retry-after-ms", "2500"),
        ("x-should-retry", "true"),
        ("x-trace", "t"),
    ]


def test_reply_chunks_text_and_tool_arguments() -> None:
    reply = Reply("abcdefg", tool_calls=[ToolCall("f", {"k": "v"})], chunk_size=3)
    assert reply.text_chunks() == ["abc", "def", "g"]
    assert "".join(reply.argument_chunks(reply.tool_calls[0])) == '{"k": "v"}'
    assert reply.chunk_count() == 3 + 4
    assert Reply.of("plain") == Reply("plain")
    with pytest.raises(ValueError, match="chunk_size"):
        Reply(chunk_size=0)


# -- schedules -----------------------------------------------------------------------------


def test_phase_at_walks_the_phases() -> None:
    schedule = Schedule([Phase(5), Phase(20, Fault.status(503)), Phase(10, Fault.status(503), 0.3)])
    assert schedule.total == 35
    assert schedule.phase_at(0) == Phase(5)
    assert schedule.phase_at(5) == Phase(20, Fault.status(503))
    assert schedule.phase_at(34.9) == Phase(10, Fault.status(503), 0.3)
    assert schedule.phase_at(35) is None and schedule.phase_at(-1) is None


def test_a_looping_schedule_repeats() -> None:
    schedule = Schedule([Phase(1), Phase(2, Fault.reset())], loop=True)
    assert schedule.locate(0.5) == (0, 0)
    assert schedule.locate(3.5) == (1, 0)
    assert schedule.locate(5.0) == (1, 1)
    with pytest.raises(ValueError, match="finite"):
        Schedule([Phase(math.inf)], loop=True)


def test_schedule_spec_round_trips() -> None:
    spec = "5:ok,20:status=503,10:status=503@0.3,1.5:rate_limit;retry_after=2"
    schedule = Schedule.parse(spec, seed=3, loop=True)
    assert schedule.phases == (
        Phase(5),
        Phase(20, Fault.status(503)),
        Phase(10, Fault.status(503), 0.3),
        Phase(1.5, Fault.rate_limit(retry_after=2)),
    )
    assert (schedule.seed, schedule.loop) == (3, True)
    assert Schedule.parse(str(schedule), seed=3, loop=True) == schedule


@pytest.mark.parametrize("spec", ["5", "x:ok", "-1:ok", "1:status=503@2"])
def test_bad_schedule_specs(spec: str) -> None:
    with pytest.raises(ValueError):
        Schedule.parse(spec)


def test_schedule_clock_is_reproducible_per_phase() -> None:
    """The k-th request in a phase gets the same verdict whatever happened before it."""
    schedule = Schedule([Phase(10), Phase(10, Fault.status(503), rate=0.5)], seed=1)
    quiet = ScheduleClock(schedule, started_at=100.0)
    busy = ScheduleClock(schedule, started_at=100.0)
    for _ in range(7):  # requests in the healthy phase draw no random numbers...
        assert busy.decide(101.0) == (True, None)
    verdicts = [quiet.decide(115.0) for _ in range(20)]
    assert [busy.decide(115.0) for _ in range(20)] == verdicts  # ...so nothing shifts
    assert {v for _, v in verdicts} == {None, Fault.status(503)}
    assert quiet.decide(121.0) == (False, None)  # over: the standing mode applies
