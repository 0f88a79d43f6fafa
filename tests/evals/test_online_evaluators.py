"""Online evaluators: rule evaluators, an LLM judge (a fake), sampling by trace id, and scores
stored as eval spans linked to the run as runs are written through the evaluating sink."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import pytest
from conftest_helpers import EXAMPLE, refund_run, register_example

from agentdeck.core.evals.match import Range, Regex
from agentdeck.core.trace.model import LinkKind, Run, SpanKind, SpanStatus
from agentdeck.core.trace.model_call import ModelResponse
from agentdeck.core.trace.query import RunQuery
from agentdeck.evals.online import (
    ArgumentCheck,
    Completion,
    EvaluatingSink,
    ExpectedTool,
    JudgeEvaluator,
    Judgement,
    JudgeRequest,
    ModelJudge,
    OnlineEvaluation,
    score_summary,
    scores_of,
)
from agentdeck.registry.deployments import Deployments
from agentdeck.registry.resolver import CachingResolver
from agentdeck.store import SqlStore
from agentdeck.tracing.replay.entrypoint import run_entrypoint
from agentdeck.tracing.sdk import api as sdk

REFUND_RUN = refund_run()
REFUND = "Hi, the mug from ORD-1000 is damaged. I'd like a refund of 30 EUR. My email is omar.kim@example.com"


def _run(status: SpanStatus = SpanStatus.OK, output: Any = "done", env: str | None = "production",
         trace_id: str = "b" * 32, input: Any = REFUND) -> Run:  # fmt: skip
    return Run(
        trace_id,
        "support-bot",
        1,
        "sha256:x",
        env,
        None,
        0,
        1,
        status,
        None,
        input,
        output,
        "1" * 16,
    )


class FakeJudge:
    def __init__(self, score: float) -> None:
        self.score = score
        self.requests: list[JudgeRequest] = []

    def judge(self, request: JudgeRequest) -> Judgement:
        self.requests.append(request)
        return Judgement(self.score, "fake says so")


def test_rule_evaluators_on_spans() -> None:
    run = _run()
    assert ExpectedTool("issue_refund", when_input="refund").evaluate(run, REFUND_RUN).passed  # type: ignore[union-attr]
    missing = ExpectedTool("send_email").evaluate(run, REFUND_RUN)
    assert missing is not None and not missing.passed and "send_email not called" in missing.reason
    assert ExpectedTool("x", when_input="nothing like this").evaluate(run, REFUND_RUN) is None
    args = ArgumentCheck(
        "issue_refund", {"amount": Range(max=30), "reason": Regex(re.compile("dam"))}
    )
    s = args.evaluate(run, REFUND_RUN)
    assert s is not None and s.value == 0.0 and "amount=40" in s.reason
    assert ArgumentCheck("send_email", {}).evaluate(run, REFUND_RUN) is None  # not applicable
    assert Completion().evaluate(run, []).passed  # type: ignore[union-attr]
    failed = Completion().evaluate(_run(status=SpanStatus.ERROR), [])
    assert failed is not None and not failed.passed
    assert not Completion(output_regex="refunded").evaluate(_run(output="sorry"), []).passed  # type: ignore[union-attr]


def test_judge_evaluator_with_a_fake_judge() -> None:
    judge = FakeJudge(0.4)
    ev = JudgeEvaluator("polite", judge, "Is the agent polite?", threshold=0.5)
    s = ev.evaluate(_run(output="Refunded."), REFUND_RUN)
    assert s is not None and s.value == 0.4 and not s.passed and s.reason == "fake says so"
    req = judge.requests[0]
    assert req.criteria == "Is the agent polite?" and req.output == "Refunded."
    assert req.actions[0].startswith('lookup_order({"order_id":"ORD-1001"})')
    assert JudgeEvaluator("x", FakeJudge(7), "c").evaluate(_run(), []).value == 1.0  # type: ignore[union-attr]


def test_model_judge_parses_the_reply_of_any_model_client() -> None:
    class Client:
        def __init__(self, text: str) -> None:
            self.text = text

        def complete(
            self,
            messages: list[dict[str, Any]],
            tools: list[dict[str, Any]],
            params: dict[str, Any],
        ) -> ModelResponse:
            assert messages[0]["role"] == "system" and tools == []
            return ModelResponse.assistant(self.text)

    req = JudgeRequest("criteria", "in", (), "out")
    assert ModelJudge(Client('Sure. {"score": 0.9, "reason": "good"}')).judge(req) == Judgement(
        0.9, "good"
    )
    bad = ModelJudge(Client("no idea")).judge(req)
    assert bad.score == 0.0 and "unparseable" in bad.reason


def test_sampling_is_a_stable_share_of_runs() -> None:
    online = OnlineEvaluation([Completion()], sample_rate=0.3)
    ids = [f"{i:032x}" for i in range(1, 2001)]
    chosen = [t for t in ids if online.applies(_run(trace_id=t))]
    assert 0.25 < len(chosen) / len(ids) < 0.35
    assert chosen == [t for t in ids if online.applies(_run(trace_id=t))]  # same decision again
    assert not OnlineEvaluation([Completion()], sample_rate=0.0).applies(_run())
    assert not OnlineEvaluation([Completion()]).applies(_run(env="staging"))  # production only
    with pytest.raises(ValueError):
        OnlineEvaluation([], sample_rate=1.5)


def test_a_raising_evaluator_is_skipped_and_counted() -> None:
    class Broken:
        name = "broken"

        def evaluate(self, run: Run, spans: Any) -> Any:
            raise RuntimeError("bug")

    online = OnlineEvaluation([Broken(), Completion()])
    assert [s.evaluator for s in online.evaluate(_run(), [])] == ["completion"]
    assert online.errors == 1


def test_production_runs_are_scored_as_they_are_stored(store: SqlStore, tmp_path: Path) -> None:
    reg = register_example(store)
    deps = Deployments(store, reg, [])
    for env in ("dev", "staging", "production"):
        deps.promote("support-bot@1", env, "tester")
    judge = FakeJudge(0.8)
    online = OnlineEvaluation(
        [
            Completion(),
            ExpectedTool("issue_refund", when_input="refund"),
            JudgeEvaluator("judge", judge, "helpful?"),
        ],
        sample_rate=1.0,
    )
    sink = EvaluatingSink(store, online)
    sdk.init(
        sink=sink, resolver=CachingResolver(reg), spill_dir=tmp_path / "spill", schedule_delay=0.05
    )
    try:
        agent = reg.resolve("support-bot@production")
        done = [run_entrypoint(agent, REFUND, paths=[EXAMPLE]) for _ in range(3)]
        sdk.flush()
    finally:
        sdk.shutdown()
    for r in done:
        spans = store.get_spans(r.trace_id)
        evals = [s for s in spans if s.kind is SpanKind.EVAL]
        assert sorted(s.attributes["eval.name"] for s in evals) == [
            "completion",
            "expected-tool:issue_refund",
            "judge",
        ]
        root = store.get_run(r.trace_id).root_span_id  # type: ignore[union-attr]
        assert all(s.parent_id == root and s.links[0].kind is LinkKind.DATA for s in evals)
        assert {s.evaluator: s.value for s in scores_of(spans)} == {
            "completion": 1.0, "expected-tool:issue_refund": 1.0, "judge": 0.8,
        }  # fmt: skip
    # Scoring the same run again stores nothing twice (span ids are per run and evaluator).
    online.score_run(store, store.get_run(done[0].trace_id))  # type: ignore[arg-type]
    assert len([s for s in store.get_spans(done[0].trace_id) if s.kind is SpanKind.EVAL]) == 3
    summary = {
        s.evaluator: s
        for s in score_summary(store, RunQuery(agent_name="support-bot", env="production"))
    }
    assert summary["judge"].runs == 3 and summary["judge"].mean == pytest.approx(0.8)
    assert summary["completion"].pass_rate == 1.0
