"""How the policy commands print: ``policy coverage``'s and ``policy simulate``'s reports (text
tables, or the JSON ``--json`` prints). Only output: the commands are in :mod:`policy_cmds`."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from agentdeck.cli.console import console, escape, short
from agentdeck.core.types import JSON

if TYPE_CHECKING:
    from agentdeck.core.policy.coverage import CoverageReport
    from agentdeck.policy.simulate import Simulation

#: Rows a table lists before pointing at --json.
_MAX_ROWS = 50


def coverage_json(report: CoverageReport, agent: str, policy: str, since: str | None) -> JSON:
    """``policy coverage --json``."""
    return {
        "agent": agent,
        "policy": policy,
        "since": since,
        "fully_covered": report.fully_covered,
        "uncovered_tools": list(report.uncovered_tools),
        "uncovered_fields": [{"tool": f.tool, "field": f.path} for f in report.uncovered_fields],
        "unknown_tools": list(report.unknown_tools),
        "new_tools": [{"tool": t.tool, "covered": t.covered} for t in report.new_tools],
        "new_fields": [
            {"tool": f.tool, "field": f.path, "covered": f.covered} for f in report.new_fields
        ],
    }


def print_coverage(report: CoverageReport, agent: str, policy: str, since: str | None) -> None:
    """``policy coverage``'s tables: each tool, its uncovered fields, what is new since."""
    from rich.table import Table

    console.print(f"[bold]{agent}[/] under [bold]{escape(policy)}[/]")
    t = Table(title="tools")
    for col in ("tool", "named by a rule", "argument fields no rule mentions"):
        t.add_column(col)
    for tc in report.tools:
        missing = [f.path for f in report.uncovered_fields if f.tool == tc.tool]
        t.add_row(
            tc.tool, "[green]yes[/]" if tc.covered else "[red]no[/]", escape(", ".join(missing))
        )
    console.print(t)
    if report.unknown_tools:
        console.print(
            f"[yellow]the policy names tools {agent} does not have:[/] "
            f"{escape(', '.join(report.unknown_tools))}"
        )
    if since is not None:
        if not report.new_tools and not report.new_fields:
            console.print(f"nothing new since {since}")
        for tc in report.new_tools:
            state = "covered" if tc.covered else "[red]NOT covered[/]"
            console.print(f"new since {since}: tool [bold]{tc.tool}[/] ({state})")
        for fc in report.new_fields:
            state = "covered" if fc.covered else "[red]NOT covered[/]"
            console.print(f"new since {since}: field {fc.tool}.{escape(fc.path)} ({state})")
    if report.fully_covered:
        console.print("[green]every tool and argument field is covered[/]")


def print_simulation(sim: Simulation, agent: str, changed_only: bool) -> None:
    """``policy simulate``'s report: the summary, the calls that change, the runs it stops."""
    s = sim.summary
    console.print(_summary_table(sim, agent))
    changed = sim.changed_calls
    if changed:
        rows = [
            (c.trace_id[:12], str(c.step), escape(c.tool),
             f"{escape(c.recorded or '')} -> [bold]{c.effect.value}[/]", escape(", ".join(c.rules)))
            for c in changed
        ]  # fmt: skip
        head = ("run", "step", "tool", "recorded -> simulated", "rules")
        _print_rows(f"calls whose decision changes ({len(changed)})", head, rows)
    elif s.recorded:
        console.print("[green]no recorded decision changes[/]")
    if s.stopped and not changed_only:
        rows = [
            (x.trace_id[:12], str(x.step), escape(x.tool), x.effect.value,
             escape(", ".join(x.rules)))
            for x in s.stopped
        ]  # fmt: skip
        head = ("run", "step", "tool", "simulated", "rules")
        _print_rows(f"runs it would stop ({len(s.stopped)})", head, rows)
    if not s.runs:
        console.print(f"no recorded runs of {escape(agent)} match")


def _summary_table(sim: Simulation, agent: str) -> Any:
    from rich.table import Table

    s = sim.summary
    t = Table(
        title=f"{escape(s.policy)} on recorded runs of {escape(agent)}",
        show_header=False,
        title_justify="left",
    )
    t.add_column(style="bold")
    t.add_column()
    replays = f" ({s.skipped_replays} replays left out)" if s.skipped_replays else ""
    t.add_row("policy", f"{escape(s.policy)}  {short(s.policy_digest)}")
    t.add_row("runs", f"{s.runs}{replays}")
    recorded = f"{s.recorded} with a recorded decision, {s.unrecorded} none recorded"
    t.add_row("calls", f"{s.calls} ({recorded})")
    t.add_row("simulated", ", ".join(f"{k} {v}" for k, v in s.effects.items()))
    changes = "".join(f"\n  {escape(k.replace('->', ' -> '))}: {v}" for k, v in s.changes.items())
    t.add_row("changed", f"[{'yellow' if s.changed else 'green'}]{s.changed}[/]{changes}")
    t.add_row("would stop", f"{len(s.stopped)} of {s.runs} runs")
    if s.rule_hits:
        t.add_row("rules matched", "\n".join(f"{escape(k)}: {v}" for k, v in s.rule_hits.items()))
    if s.rule_errors:
        failed = "\n".join(f"{escape(k)}: {v}" for k, v in s.rule_errors.items())
        t.add_row("[red]rules failed[/]", failed)
    return t


def _print_rows(title: str, head: tuple[str, ...], rows: Sequence[tuple[str, ...]]) -> None:
    """A table of at most :data:`_MAX_ROWS` rows, then how many more --json would list."""
    from rich.table import Table

    t = Table(title=title, title_justify="left")
    for col in head:
        t.add_column(col)
    for row in rows[:_MAX_ROWS]:
        t.add_row(*row)
    console.print(t)
    if len(rows) > _MAX_ROWS:
        console.print(f"... and {len(rows) - _MAX_ROWS} more (--json lists them all)")
