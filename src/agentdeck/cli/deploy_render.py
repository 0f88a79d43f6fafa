"""How ``history`` prints: a deployment's and a canary step's line, the reason beneath. The full
command (:mod:`.deploy_cmds`) and the fast read path (:mod:`.history_fast`) both print through
here. No Typer here; Rich loads when the table is built."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from agentdeck.cli.console import escape, fmt_time, short

if TYPE_CHECKING:
    from agentdeck.core.deploy.model import Deployment
    from agentdeck.registry.canary_events import CanaryEvent

__all__ = ["print_history"]


def print_history(title: str, deps: list[Deployment], events: list[CanaryEvent]) -> None:
    """One line per deployment and per audited canary step (80 columns), oldest first, the
    reason beneath each. A canary's line has no position (it is not a deployment) and shows
    the candidate's share of runs from then on where a deployment shows its health."""
    from agentdeck.cli.narrow import print_rows
    from agentdeck.core.deploy.model import Health
    from agentdeck.registry.canary_events import PAST

    health_style = {Health.GOOD: "green", Health.BAD: "red", Health.UNKNOWN: "dim"}
    rows: list[tuple[Any, tuple[tuple[str, ...], str | None]]] = [
        (
            d.at,
            (
                (
                    str(d.seq),
                    fmt_time(d.at).removesuffix(" UTC"),
                    d.action.value + (" (forced)" if d.forced else ""),
                    str(d.agent_version),
                    short(d.agent_digest, 8),
                    f"[{health_style[d.health]}]{d.health.value}[/]",
                    escape(d.actor),
                ),
                d.reason or None,
            ),
        )
        for d in deps
    ]
    for e in events:
        kind = "shadow" if e.shadow else "canary"
        note = f"{kind} {PAST.get(e.what, e.what)} ({e.canary_id[:12]}): {e.reason}"
        cells = (
            "",
            fmt_time(e.at).removesuffix(" UTC"),
            f"[yellow]{kind}[/]",
            str(e.candidate_version),
            short(e.candidate_digest, 8),
            f"{e.share:g} %",
            escape(e.actor),
        )
        rows.append((e.at, (cells, note)))
    rows.sort(key=lambda r: r[0])  # stable: a deployment before a canary step of its instant
    print_rows(
        ("#", "when (UTC)", "action", "version", "digest", "health", "actor"),
        [r for _, r in rows],
        title=title,
    )
