"""Runnable documentation: the fenced blocks of a Markdown file, as commands to run in order.

Conventions (also in docs/writing-docs.md):

- Every ```bash, ```sh, ```shell and ```console block runs, top to bottom, in one fresh
  directory per file. In a ``console`` block the commands are the lines that start with ``$ ``
  (other lines are output); in the other kinds every line that is not blank or a ``#`` comment
  is a command. A line ending in ``\\`` continues on the next; a here-document (``<<'EOF'``)
  runs with its body. Shell variables and ``cd`` carry over from command to command.
- A command must exit 0 unless the text announces otherwise: a trailing comment
  ``# exit N`` (or ``# exits N ...``) on the command's line, or an HTML comment
  ``<!-- expect-exit: N -->`` on the line before the block (every command of the block).
- ``<!-- no-run: REASON -->`` before a block: not run (keep it rare, and say why).
- ``<!-- background: REASON -->`` before a block: each command is a long-running process
  (``agentdeck serve``, ``--follow``), started and left running while the rest of the file
  runs, then stopped with Ctrl-C (SIGINT). It must not exit with an error. ``agentdeck serve``
  gets a free port instead of the one written (8600 when none is), the test waits until it
  accepts connections, and later commands that name the written port get the real one.
- ``<!-- run-python -->`` before a ```python block: the block runs as a script (exit 0), in
  order with the shell blocks.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

SHELL = {"bash", "sh", "shell", "console"}
FENCE = re.compile(r"^(\s*)```\s*([A-Za-z0-9_+-]*)\s*$")
MARKER = re.compile(
    r"^\s*<!--\s*(no-run|expect-exit|background|run-python)\s*(?::\s*(.*?))?\s*-->\s*$"
)
INLINE_EXIT = re.compile(r"(?:^|\s)#\s*exits?\s+(\d+)\b")
HEREDOC = re.compile(r"<<-?\s*(['\"]?)([A-Za-z_][A-Za-z0-9_]*)\1")


@dataclass(frozen=True)
class Command:
    """One command to run: its text, the line it starts on, the exit code it must give."""

    text: str
    line: int
    expect: int
    background: bool = False
    python: bool = False


@dataclass(frozen=True)
class Block:
    lang: str
    line: int  # the fence's line, 1-based
    body: tuple[str, ...]
    marker: str | None
    marker_arg: str | None


def blocks(text: str) -> list[Block]:
    """Every fenced block with the marker on the nearest non-blank line before it."""
    lines = text.splitlines()
    out: list[Block] = []
    i = 0
    while i < len(lines):
        m = FENCE.match(lines[i])
        if not m:
            i += 1
            continue
        start, lang = i, m.group(2).lower()
        j = i + 1
        while j < len(lines) and not re.match(r"^\s*```\s*$", lines[j]):
            j += 1
        k = start - 1
        while k >= 0 and not lines[k].strip():
            k -= 1
        mk = MARKER.match(lines[k]) if k >= 0 else None
        out.append(
            Block(
                lang,
                start + 1,
                tuple(lines[start + 1 : j]),
                mk.group(1) if mk else None,
                mk.group(2) if mk else None,
            )
        )
        i = j + 1
    return out


def commands(block: Block) -> list[Command]:
    """The commands of one block with their expected exit codes."""
    if block.marker == "no-run":
        return []
    if block.lang == "python":
        if block.marker != "run-python":
            return []
        return [Command("\n".join(block.body), block.line + 1, 0, python=True)]
    if block.lang not in SHELL:
        return []
    base = int(block.marker_arg or 0) if block.marker == "expect-exit" else 0
    console = block.lang == "console"
    out: list[Command] = []
    body = list(block.body)
    i = 0
    while i < len(body):
        raw, lineno = body[i], block.line + 1 + i
        i += 1
        line = raw.strip()
        if console:
            if not line.startswith("$ "):
                continue
            line = line[2:]
        if not line or line.startswith("#"):
            continue
        parts = [line]
        while parts[-1].endswith("\\") and i < len(body):
            nxt = body[i].strip()
            parts.append(nxt[2:] if console and nxt.startswith("> ") else nxt)
            i += 1
        text = "\n".join(parts)
        doc = HEREDOC.search(text)
        if doc:
            end = doc.group(2)
            while i < len(body):
                nxt = body[i]
                i += 1
                text += "\n" + nxt
                if nxt.strip() == end:
                    break
        inline = INLINE_EXIT.search(parts[0])
        expect = int(inline.group(1)) if inline else base
        out.append(Command(text, lineno, expect, background=block.marker == "background"))
    return out


def document_commands(path: Path) -> list[Command]:
    """All commands of a Markdown file, in order."""
    return [c for b in blocks(path.read_text(encoding="utf-8")) for c in commands(b)]
