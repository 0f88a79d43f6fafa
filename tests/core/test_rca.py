"""Root-cause analysis over execution graphs built by hand."""

from __future__ import annotations

from agentdeck.core.trace.model import LinkKind, Span, SpanKind, SpanLink, SpanStatus
from agentdeck.core.trace.rca import Badness, EdgeKind, analyze, failing_span

T = "a" * 32


def span(
    sid: str,
    parent: str | None,
    kind: SpanKind,
    seq: int,
    *,
    status: SpanStatus = SpanStatus.OK,
    error: str | None = None,
    links: tuple[str, ...] = (),
    attrs: dict[str, object] | None = None,
    outputs: object = None,
    name: str | None = None,
) -> Span:
    return Span(
        trace_id=T,
        span_id=sid.ljust(16, "0"),
        parent_id=parent.ljust(16, "0") if parent else None,
        name=name or sid,
        kind=kind,
        start_ns=seq * 10,
        end_ns=seq * 10 + 5,
        seq=seq,
        status=status,
        error=error,
        outputs=outputs,
        attributes=attrs or {},
        links=tuple(SpanLink(T, ln.ljust(16, "0"), LinkKind.DATA) for ln in links),
    )


def pipeline(bad_first_tool: bool) -> list[Span]:
    """root -> agents A, B, C; B consumed A's output, C consumed B's; C's tool fails."""
    a_tool_attrs = (
        {
            "tool.name": "fetch",
            "tool.output_valid": False,
            "tool.output_errors": "missing field 'price'",
        }
        if bad_first_tool
        else {"tool.name": "fetch"}
    )
    return [
        span("r", None, SpanKind.AGENT, 0, status=SpanStatus.ERROR, error="pipeline failed"),
        span("a", "r", SpanKind.AGENT, 1, attrs={"agent.name": "collector"}),
        span("a1", "a", SpanKind.TOOL, 2, attrs=a_tool_attrs, name="fetch"),
        span("a2", "a", SpanKind.LLM, 3),
        span("b", "r", SpanKind.AGENT, 4, links=("a",), attrs={"agent.name": "analyst"}),
        span("b1", "b", SpanKind.LLM, 5),
        span(
            "c",
            "r",
            SpanKind.AGENT,
            6,
            links=("b",),
            status=SpanStatus.ERROR,
            error="KeyError",
            attrs={"agent.name": "writer"},
        ),
        span(
            "c1",
            "c",
            SpanKind.TOOL,
            7,
            status=SpanStatus.ERROR,
            error="KeyError: 'price'",
            attrs={"tool.name": "publish"},
            name="publish",
        ),
        span(
            "x", "r", SpanKind.TOOL, 8, attrs={"tool.name": "unrelated", "tool.args_valid": False}
        ),
    ]


def test_failing_span_is_the_deepest_last_error() -> None:
    assert failing_span(pipeline(True)).span_id.startswith("c1")  # type: ignore[union-attr]


def test_first_agents_bad_tool_response_is_named_as_root_cause_across_agents() -> None:
    rc = analyze(pipeline(True))
    assert rc is not None and rc.cause is not None
    assert rc.cause.span.name == "fetch"
    assert rc.cause.why is Badness.SCHEMA_MISMATCH
    names = [p.span.name for p in rc.path]
    assert names[0] == "fetch" and names[-1] == "publish"
    assert (
        "a" in names and "b" in names and "c" in names
    )  # spread through collector -> analyst -> writer
    assert any(p.edge is EdgeKind.LINK for p in rc.path)


def test_a_later_unrelated_bad_span_is_not_blamed() -> None:
    rc = analyze(pipeline(True))
    assert rc is not None
    assert all(not b.span.span_id.startswith("x") for b in rc.bad_spans)


def test_without_upstream_fault_the_failing_span_itself_is_the_cause() -> None:
    rc = analyze(pipeline(False))
    assert rc is not None and rc.cause is not None
    assert rc.cause.span.name == "publish" and rc.cause.why is Badness.ERROR


def test_output_check_callback_detects_schema_mismatch() -> None:
    spans = pipeline(False)
    rc = analyze(spans, output_check=lambda s: "bad" if s.name == "fetch" else None)
    assert rc is not None and rc.cause is not None and rc.cause.span.name == "fetch"


def test_policy_denial_is_bad() -> None:
    spans = [
        span(
            "t",
            None,
            SpanKind.TOOL,
            1,
            status=SpanStatus.ERROR,
            error="denied",
            attrs={"tool.name": "refund"},
        ),
        span("p", "t", SpanKind.POLICY, 2, outputs={"effect": "deny", "message": "over limit"}),
    ]
    rc = analyze(spans, start=spans[0])
    assert rc is not None and rc.cause is not None
    assert {b.why for b in rc.bad_spans} >= {Badness.ERROR}
