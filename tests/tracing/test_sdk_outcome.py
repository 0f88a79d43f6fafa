"""``run.set_outcome(success=..., score=..., reason=...)``: recorded on the run, the last call
wins, a bad score is left out without raising, and it is harmless when nothing is recorded."""

from __future__ import annotations

import math
from pathlib import Path

from sdk_support import BOT, start

from agentdeck.core.trace.model import Outcome
from agentdeck.tracing.sdk import api as sdk


def test_outcome_is_recorded_on_the_run(tmp_path: Path) -> None:
    sink = start(tmp_path)
    try:
        with sdk.run(BOT, input="refund") as won:
            won.set_outcome(success=False, reason="first guess")
            won.set_outcome(success=True, score=0.75, reason="refund issued")
        with sdk.run(BOT, input="hi") as unknown:
            pass
        assert sdk.flush(5)
        got = sink.run(won.trace_id)
        assert got is not None
        assert (got.outcome, got.outcome_score, got.outcome_reason) == (
            Outcome.SUCCESS, 0.75, "refund issued")  # fmt: skip
        plain = sink.run(unknown.trace_id)
        assert plain is not None
        assert (plain.outcome, plain.outcome_score, plain.outcome_reason) == (None, None, None)
    finally:
        sdk.shutdown(timeout=5)


def test_a_score_that_is_not_a_number_is_left_out(tmp_path: Path) -> None:
    sink = start(tmp_path)
    try:
        trace_ids = []
        for bad in ("high", math.nan, math.inf, object(), 10**400):
            with sdk.run(BOT) as r:
                r.set_outcome(success=False, score=bad, reason="bad score")  # type: ignore[arg-type]
            trace_ids.append(r.trace_id)
        assert sdk.flush(5)
        for tid in trace_ids:
            got = sink.run(tid)
            assert got is not None
            assert (got.outcome, got.outcome_score) == (Outcome.FAILURE, None)
    finally:
        sdk.shutdown(timeout=5)


def test_set_outcome_without_init_does_nothing() -> None:
    sdk.shutdown(timeout=5)
    with sdk.run(BOT) as r:
        r.set_outcome(success=True, score=1)
    assert r.trace_id == ""  # not recording
