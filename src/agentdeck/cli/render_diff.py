"""Rich rendering of a semantic diff."""

from __future__ import annotations

from typing import Any

import orjson
from rich.console import Console
from rich.markup import escape
from rich.table import Table

from agentdeck.core.spec.diff import AgentDiff, ChangeKind

_STYLE = {ChangeKind.ADDED: "green", ChangeKind.REMOVED: "red", ChangeKind.CHANGED: "yellow"}
_MARK = {ChangeKind.ADDED: "+", ChangeKind.REMOVED: "-", ChangeKind.CHANGED: "~"}


def _v(value: Any) -> str:
    if value is None:
        return ""
    text = (
        value
        if isinstance(value, str)
        else orjson.dumps(value, option=orjson.OPT_SORT_KEYS).decode()
    )
    return escape(text if len(text) <= 60 else text[:57] + "...")


def render_diff(console: Console, d: AgentDiff) -> None:
    console.print(
        f"[bold]{escape(d.a_ref)}[/] {d.a_digest[:19]}  ->  [bold]{escape(d.b_ref)}[/] {d.b_digest[:19]}"
    )
    if d.identical:
        console.print("[green]identical[/]: same digest, nothing changed")
        return
    for section in d.sections():
        t = Table(title=section, title_justify="left", show_edge=False)
        t.add_column("", width=1)
        t.add_column("path", overflow="fold")  # a path is the point of a diff: never elide it
        t.add_column("before")
        t.add_column("after")
        t.add_column("detail")
        for c in d.changes:
            if c.section != section:
                continue
            style = _STYLE[c.kind]
            t.add_row(
                f"[{style}]{_MARK[c.kind]}[/]",
                f"[{style}]{escape(c.path)}[/]",
                _v(c.before),
                _v(c.after),
                escape(c.detail),
            )
        console.print(t)
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
