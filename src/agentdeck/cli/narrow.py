"""Tables that stay readable at 80 columns: short fields in columns, long text beneath.

A wide table whose last column holds prose (an alert's message, a deployment's reason, what a
metric's change was) wraps every cell into a tall column of fragments at 80 columns. Here the
short fields form one line per row (never wrapped), and the prose is printed under its row,
indented, across the whole width. Rich loads when a table is printed.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from agentdeck.cli.console import console

if TYPE_CHECKING:
    from rich.console import RenderableType
    from rich.segment import Segment
    from rich.text import Text

RIGHT = frozenset({"#", "score", "adj. p", "runs", "ms", "steps", "version"})
"""Column headers whose values are numbers: right-aligned."""


def print_rows(
    headers: Sequence[str],
    rows: Sequence[tuple[Sequence[RenderableType], str | None]],
    *,
    title: str | None = None,
) -> None:
    """Print ``rows`` (cells, then the prose under the row, or None) under ``headers``."""
    from rich.table import Table

    if title:
        console.print(title, markup=False, highlight=False, soft_wrap=True, style="bold")
    table = Table(box=None, pad_edge=False, show_edge=False, padding=(0, 2, 0, 0))
    for h in headers:
        table.add_column(h, no_wrap=True, justify="right" if h in RIGHT else "left")
    for cells, _ in rows:
        table.add_row(*cells)
    lines = console.render_lines(table, console.options, pad=False)
    console.print(_text(lines[0]), style="bold")
    for line, (_, note) in zip(lines[1:], rows, strict=True):
        console.print(_text(line))
        if note:
            print_note(note)


def print_trimmed(renderable: RenderableType) -> None:
    """Print ``renderable`` (a grid, a table) without the blanks Rich pads its lines with."""
    for line in console.render_lines(renderable, console.options, pad=False):
        console.print(_text(line), soft_wrap=True)


def _text(line: list[Segment]) -> Text:
    """One rendered table line back as Rich text (it fits the width: printed unwrapped)."""
    from rich.text import Text

    text = Text()
    for seg in line:
        if not seg.control:
            text.append(seg.text, seg.style)
    text.rstrip()
    return text


def print_note(note: str, indent: int = 2) -> None:
    """``note`` wrapped at the console's width, indented, without trailing blanks."""
    from rich.text import Text

    for line in Text(note, style="dim").wrap(console.rich(), max(20, console.width - indent)):
        line.rstrip()
        console.print(Text(" " * indent) + line, soft_wrap=True)
