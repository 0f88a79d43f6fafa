"""Reading import files line by line, and the one-line error that names the file and line."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Literal

import orjson

from agentdeck.core.errors import InputError

__all__ = ["Format", "ImportFileError", "detect_format", "iter_lines"]

Format = Literal["openai", "otlp"]
MAX_LINE_BYTES = 256 * 1024 * 1024
"""A line longer than this is refused (one conversation or one export request a line)."""


class ImportFileError(InputError):
    """A line of an import file that cannot be imported: ``FILE:LINE: reason``."""

    def __init__(self, path: Path, line: int, reason: str) -> None:
        self.path, self.line, self.reason = path, line, reason
        super().__init__(f"{path}:{line}: {reason}")


def iter_lines(path: Path) -> Iterator[tuple[int, bytes]]:
    """(line number, bytes) of each non-blank line; a missing or unreadable file is an InputError."""
    try:
        fh = path.open("rb")
    except OSError as exc:
        raise InputError(f"{path}: cannot read: {exc.strerror or exc}") from None
    with fh:
        for number, line in enumerate(fh, 1):
            if len(line) > MAX_LINE_BYTES:
                raise ImportFileError(path, number, f"line longer than {MAX_LINE_BYTES} bytes")
            if line.strip():
                yield number, line


def detect_format(path: Path) -> Format:
    """``otlp`` when the first line is an export request (``resourceSpans``), else ``openai``."""
    for number, line in iter_lines(path):
        try:
            doc = orjson.loads(line)
        except orjson.JSONDecodeError as exc:
            raise ImportFileError(path, number, f"not valid JSON ({exc})") from None
        if isinstance(doc, dict) and ("resourceSpans" in doc or "resource_spans" in doc):
            return "otlp"
        return "openai"
    raise InputError(f"{path}: empty file: nothing to import")
