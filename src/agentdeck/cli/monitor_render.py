"""``agentdeck monitor``'s window report, readable at 80 columns.

One line per drifted metric (its full name, ``args_validity_rate[send_email]`` included: never
elided), with what changed wrapped beneath it; the metrics that did not drift and the ones
skipped are listed compactly, per-tool metrics grouped under their family
(``args_validity_rate[lookup_order, search_kb]``). Rich loads here, when a report is printed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from typing import TYPE_CHECKING

from agentdeck.cli.console import console, fmt_time
from agentdeck.cli.narrow import print_note, print_rows, print_trimmed

if TYPE_CHECKING:
    from agentdeck.monitor.drift import DriftItem
    from agentdeck.monitor.window import WindowCheck

_FAMILY = re.compile(r"^(?P<family>[^\[\]]+)\[(?P<key>[^\[\]]*)\]$")


def _fmt_p(p: float | None) -> str:
    return "-" if p is None else f"{p:.2g}"


def _change(it: DriftItem) -> str:
    """The explanation without a leading repeat of the metric's name."""
    text = it.explanation
    for prefix in (f"{it.metric} ", f"{it.metric}: "):
        if text.startswith(prefix):
            return text[len(prefix) :]
    return text


def group_metrics(names: Iterable[str]) -> list[str]:
    """Metric names in order, ``family[a]`` and ``family[b]`` joined as ``family[a, b]``
    where the first of the family stood."""
    order: list[str] = []
    keys: dict[str, list[str]] = {}
    for name in names:
        m = _FAMILY.match(name)
        if m is None:
            order.append(name)
            continue
        family = m.group("family")
        if family not in keys:
            keys[family] = []
            order.append(f"\0{family}")
        keys[family].append(m.group("key"))
    return [f"{n[1:]}[{', '.join(keys[n[1:]])}]" if n.startswith("\0") else n for n in order]


def render_window(wc: WindowCheck) -> None:
    """Print one window check: a heading, the drifted metrics, then the rest in brief."""
    from rich.text import Text

    r = wc.report
    since, until = fmt_time(wc.since), fmt_time(wc.until)
    if since[:10] == until[:10]:
        since, until = since[:19], until[11:]
    console.print(
        f"{wc.agent}@{wc.env or '*'}: {r.window_runs} runs, {since} .. {until}\n"
        f"vs baseline {wc.baseline} ({r.baseline_runs} runs): {len(r.drifted)} of "
        f"{len(r.items)} drifted ({r.correction}, alpha {r.alpha})",
        markup=False,
        highlight=False,
    )
    drifted = [it for it in r.items if it.drifted]
    if drifted:
        print_rows(
            ("drifted metric", "category", "score", "adj. p"),
            [
                (
                    (Text(it.metric, style="bold red"), str(it.category), f"{it.score:.2f}",
                     _fmt_p(it.adjusted_p)),
                    _change(it),
                )
                for it in drifted
            ],
        )  # fmt: skip
    rest = [it for it in r.items if not it.drifted]
    if rest:
        print_trimmed(
            Text(f"not drifted ({len(rest)}): ", style="green")
            + Text(", ".join(group_metrics(it.metric for it in rest)))
        )
    if r.skipped:
        console.print(f"skipped ({len(r.skipped)}):", markup=False)
        for s in r.skipped:
            print_note(s)
