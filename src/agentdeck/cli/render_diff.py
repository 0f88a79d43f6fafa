"""Rich rendering of a semantic diff."""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape

from agentdeck.core.spec.diff import AgentDiff, ChangeKind

_STYLE = {ChangeKind.ADDED: "green", ChangeKind.REMOVED: "red", ChangeKind.CHANGED: "yellow"}
_MARK = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}


def _v(value: Any, n: int = 60) -> str:
    if value is None:
        return ""
    text = (
        value
        if isinstance(value, str)
        else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    )
    return escape(text if len(text) <= n else text[: n - 1] + "…")


def render_diff(console: Console, d: AgentDiff) -> None:
    console.print(
        f"[bold]{escape(d.a_ref)}[/] {d.a_digest[:19]}  ->  [bold]{escape(d.b_ref)}[/] {d.b_digest[:19]}"
    )
    if d.identical:
        console.print("[green]identical[/]: same digest, nothing changed")
        return
    from agentdeck.cli.narrow import print_rows

    for section in d.sections():
        # one line a change (the path never elided), its detail beneath: readable at 80 columns
        changes = [c for c in d.changes if c.section == section]
        # the values share what width the longest path leaves (the path is never cut)
        room = console.width - max(len(c.path) for c in changes) - 9
        n = max(12, min(60, room // 2))
        rows = []
        for c in changes:
            style = _STYLE[c.kind]
            cells = (f"[{style}]{_MARK[c.kind]}[/]", f"[{style}]{escape(c.path)}[/]",
                     _v(c.before, n), _v(c.after, n))  # fmt: skip
            rows.append((cells, c.detail or None))
        print_rows(("", "path", "before", "after"), rows, title=section)
        if section == "prompt" and d.prompt_diff:
            for line in d.prompt_diff:
                style = (
                    "green"
                    if line.startswith("+")
                    else "red"
                    if line.startswith("-")
                    else "cyan"
                    if line.startswith("@@")
                    else "dim"
                )
                console.print(f"[{style}]{escape(line)}[/]")
