"""How ``agentdeck trace`` prints a run: the tree's head and one label per span. The full
command (:mod:`.trace_cmds`) and the fast read path (:mod:`.trace_fast`) both render through
here. No Typer here."""

from __future__ import annotations

from typing import TYPE_CHECKING

from agentdeck.cli.console import escape
from agentdeck.cli.runs_render import PROVISIONAL_NOTE, clip, cost_cell, outcome_text
from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus

if TYPE_CHECKING:
    from rich.tree import Tree

    from agentdeck.tracing.analysis.queries import SpanNode

__all__ = ["add_span", "span_label", "trace_title"]

_KIND_STYLE = {
    SpanKind.AGENT: "bold magenta",
    SpanKind.LLM: "cyan",
    SpanKind.TOOL: "yellow",
    SpanKind.POLICY: "blue",
    SpanKind.HANDOFF: "magenta",
}


def span_label(s: Span) -> str:
    ms = s.duration_ns / 1e6
    style = _KIND_STYLE.get(s.kind, "white")
    if s.status is SpanStatus.ERROR:
        status = "[red]✗ denied[/]" if s.denied else "[red]✗ error[/]"
    else:
        status = "[red]✗ failed[/]" if s.failed else "[green]✓[/]"
    head = f"[{style}]{s.kind.value}[/] [bold]{escape(s.name)}[/] {status} [dim]{ms:.1f} ms[/]"
    if s.attributes.get("tool.intercepted"):
        head += " [dim](served by replay)[/]"
    lines = [head]
    if s.kind is SpanKind.TOOL:
        args = s.inputs.get("args") if isinstance(s.inputs, dict) else s.inputs
        lines.append(f"  args: {escape(clip(args, 120))}")
        if s.attributes.get("tool.args_valid") is False:
            lines.append(
                f"  [red]invalid args: {escape(clip(s.attributes.get('tool.args_errors'), 120))}[/]"
            )
        if s.status is not SpanStatus.ERROR:
            result = s.outputs.get("result") if isinstance(s.outputs, dict) else s.outputs
            lines.append(f"  result: {escape(clip(result, 120))}")
    elif s.kind is SpanKind.LLM:
        msgs = s.inputs.get("messages", []) if isinstance(s.inputs, dict) else []
        model = s.attributes.get("llm.response_model") or s.attributes.get("llm.model")
        lines.append(f"  model: {escape(str(model or '-'))}, {len(msgs)} messages in context")
        msg = s.outputs.get("message") if isinstance(s.outputs, dict) else None
        if isinstance(msg, dict):
            calls = msg.get("tool_calls") or []
            if calls:
                lines.append(
                    "  calls: "
                    + escape(
                        ", ".join(f"{c.get('name')}({clip(c.get('arguments'), 60)})" for c in calls)
                    )
                )
            if msg.get("content"):
                lines.append(f"  says: {escape(clip(msg.get('content'), 120))}")
        if s.usage:
            lines.append(f"  tokens: {s.usage.input_tokens} in / {s.usage.output_tokens} out")
    elif s.kind is SpanKind.POLICY and isinstance(s.outputs, dict):
        lines.append(
            f"  effect: {s.outputs.get('effect')} rules: {escape(clip(s.outputs.get('rules'), 80))}"
        )
    elif s.kind is SpanKind.EVAL:
        a = s.attributes
        passed = a.get("eval.passed")
        verdict = "passed" if passed is True else "failed" if passed is False else "-"
        lines.append(f"  score: {escape(str(a.get('eval.score', '-')))} {verdict}")
        reason = s.outputs.get("reason") if isinstance(s.outputs, dict) else None
        if reason:
            lines.append(f"  reason: {escape(clip(reason, 120))}")
    elif s.kind is SpanKind.AGENT:
        a = s.attributes
        if a.get("agent.name"):
            version = a.get("agent.version")
            lines.append(f"  {escape(str(a.get('agent.name')))}@{escape(str(version or '?'))}")
    if s.error:
        lines.append(f"  [red]error: {escape(clip(s.error, 160))}[/]")
    return "\n".join(lines)


def add_span(tree: Tree, node: SpanNode) -> None:
    branch = tree.add(span_label(node.span))
    for child in node.children:
        add_span(branch, child)


def trace_title(trace_id: str, r: Run | None) -> str:
    """The tree's head: the run's agent, env and status, and what kind of run it is (a replay,
    or provisional: its fields are guesses from child spans until the root arrives)."""
    title = f"run {trace_id}"
    if r is None:
        return title
    agent = f"{escape(r.agent_name or '-')}@{r.agent_version or '?'}"
    title += f"  {agent} in {escape(r.env or '-')}  \\[{r.status.value}]"
    title += f"  tool errors: {r.tool_errors}  denied: {r.denied_calls}"
    if r.total_tokens or r.unpriced_calls:
        title += f"  tokens: {r.total_tokens}  cost: {cost_cell(r)}"
    if r.outcome is not None:
        title += f"  outcome: {outcome_text(r)}"
        if r.outcome_reason:
            title += f" ({escape(clip(r.outcome_reason, 80))})"
    if r.session_id:
        title += f"  session: {escape(r.session_id)}"
    if r.user_id:
        title += f"  user: {escape(r.user_id)}"
    replay_of = r.attributes.get("replay.of")
    if replay_of:
        mode = r.attributes.get("replay.mode") or "replay"
        title += f"  ({escape(str(mode))} replay of {escape(str(replay_of))})"
    if r.provisional:
        title += f"  [yellow]provisional[/] [dim]({PROVISIONAL_NOTE})[/]"
    return title
