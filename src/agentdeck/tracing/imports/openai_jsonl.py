"""OpenAI chat-format JSONL: one finished conversation a line (see
:mod:`agentdeck.core.trace.conversation` for the fields)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import orjson

from agentdeck.core.errors import InputError
from agentdeck.core.trace.conversation import Conversation, parse_conversation
from agentdeck.tracing.imports.files import ImportFileError, iter_lines

__all__ = ["conversations", "parse_line"]


def parse_line(line: bytes | str) -> Conversation:
    """One JSONL line as a conversation; InputError naming the field otherwise."""
    try:
        doc = orjson.loads(line)
    except orjson.JSONDecodeError as exc:
        raise InputError(f"not valid JSON ({exc})") from None
    if not isinstance(doc, dict):
        raise InputError(f"a line must be a JSON object, not {type(doc).__name__}")
    return parse_conversation(doc)


def conversations(
    path: Path, on_line: Callable[[int], None] | None = None
) -> Iterator[tuple[int, Conversation]]:
    """(line number, conversation) for each line; the first bad line raises ImportFileError."""
    for number, line in iter_lines(path):
        try:
            conv = parse_line(line)
        except InputError as exc:
            raise ImportFileError(path, number, str(exc)) from None
        if on_line is not None:
            on_line(number)
        yield number, conv
