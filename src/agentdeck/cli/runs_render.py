"""How ``agentdeck runs`` prints its table, and the run cells ``trace`` shares: the full command
(:mod:`.trace_cmds`) and the fast read path (:mod:`.runs_fast`) both render through here, so
their output is the same. Rich loads when a table is built; no Typer here."""

from __future__ import annotations

from typing import Any

import orjson

from agentdeck.cli.console import console, escape
from agentdeck.core.trace.model import Outcome, Run

__all__ = ["INPUT_MIN", "PROVISIONAL_NOTE", "clip", "cost_cell", "outcome_text", "runs_table"]

PROVISIONAL_NOTE = "derived from child spans; the root span has not arrived"
"""Why a run is provisional, shown next to the marker (the UI says the same)."""


def outcome_text(r: Run) -> str:
    if r.outcome is None:
        return "-"
    style = "green" if r.outcome is Outcome.SUCCESS else "red"
    score = f" {r.outcome_score:g}" if r.outcome_score is not None else ""
    return f"[{style}]{r.outcome.value}{score}[/]"


def runs_table(found: list[Run]) -> Any:
    """The runs as a table that fits 80 columns: a column every row shares (one agent
    version, one env) goes to the title, the input takes what width is left, one line each."""
    from datetime import UTC, datetime

    from rich import box
    from rich.table import Table
    from rich.text import Text

    agents = {f"{r.agent_name or '-'}@{r.agent_version or '?'}" for r in found}
    envs = {r.env or "-" for r in found}
    title = f"runs ({len(found)})"
    if len(agents) == 1 and found:
        title += f" of {next(iter(agents))}"
    if len(envs) == 1 and found:
        title += f" in {next(iter(envs))}"
    t = Table(
        title=escape(title), box=box.SIMPLE_HEAD, show_edge=False, pad_edge=False,
        collapse_padding=True, title_justify="left",
    )  # fmt: skip
    if any(r.provisional for r in found):
        t.caption = f"provisional: {PROVISIONAL_NOTE}"
    days = {datetime.fromtimestamp(r.start_ns / 1e9, UTC).date() for r in found}
    started = "%H:%M" if len(days) == 1 else "%m-%d %H:%M"
    if len(days) == 1:
        t.title = f"{t.title}, {next(iter(days)).isoformat()} (UTC)"
    from rich.markup import render

    def cells_of(r: Run) -> dict[str, str]:
        ms = f"{(r.end_ns - r.start_ns) / 1e6:.0f}" if r.end_ns else "-"
        style = {"error": "red", "ok": "green"}.get(r.status.value, "dim")
        return {
            "run": r.trace_id[:12],
            "agent": escape(f"{r.agent_name or '-'}@{r.agent_version or '?'}"),
            "env": escape(r.env or "-"),
            "status": f"[{style}]{r.status.value}[/]"
            + (" [yellow]provisional[/]" if r.provisional else ""),
            "err": f"[red]{r.tool_errors}[/]" if r.tool_errors else "0",
            "deny": f"[yellow]{r.denied_calls}[/]" if r.denied_calls else "0",
            "outcome": outcome_text(r),
            "started": datetime.fromtimestamp(r.start_ns / 1e9, UTC).strftime(started),
            "ms": ms,
            "cost": cost_cell(r),
        }

    rows = [cells_of(r) for r in found]
    # Columns by priority: one that every row leaves empty is left out, and the others are
    # added while the input keeps at least INPUT_MIN columns of the console's width.
    wanted = [("run", True), ("status", True), ("started", True),
              ("agent", len(agents) > 1), ("err", True), ("env", len(envs) > 1),
              ("outcome", any(r.outcome is not None for r in found)),
              ("deny", any(r.denied_calls for r in found)),
              ("cost", any(r.cost_usd or r.unpriced_calls for r in found)), ("ms", True)]  # fmt: skip
    room = max(console.width, 40) - INPUT_MIN
    chosen: set[str] = set()
    for name, keep in wanted:
        width = max([len(name), *(len(render(row[name]).plain) for row in rows)]) + 2
        if keep and width <= room:
            chosen.add(name)
            room -= width
    order = ("run", "agent", "env", "status", "err", "deny", "outcome", "started", "ms", "cost")
    shown = [name for name in order if name in chosen]
    for name in shown:
        t.add_column(
            name,
            no_wrap=True,
            justify="right" if name in ("err", "deny", "ms", "cost") else "left",
        )
    # the one column that gives way, its text kept to one line
    t.add_column("input", min_width=10)
    for r, cells in zip(found, rows, strict=True):
        # names and inputs come from producers: escaped; the input on one line
        text = Text(" ".join(clip(r.input, 400).split()), no_wrap=True, overflow="ellipsis")
        t.add_row(*(cells[name] for name in shown), text)
    return t


INPUT_MIN = 16  # the columns the runs table keeps for the input


def cost_cell(r: Run) -> str:
    from agentdeck.core.cost.format import cost_text  # (not at start-up: core.cost reads YAML)

    return cost_text(r.cost_usd, r.unpriced_calls)


def clip(value: Any, n: int = 80) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else orjson.dumps(value).decode()
    return text if len(text) <= n else text[: n - 1] + "…"
