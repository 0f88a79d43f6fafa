"""The local spill: batches that could not be delivered, kept on disk until they can be.

Each exporter owns one append-only file ``spill-<pid>-<random>.jsonl`` in the spill directory:
one line per batch, in the wire format (:mod:`agentdeck.tracing.wire`). A sibling
``.offset`` file holds how many bytes have been re-sent, written atomically (temp file +
``os.replace``) after every delivered line, so a re-send resumes where it stopped, even in a
new process. Re-sending a line twice is harmless: sinks are idempotent by span id.

The owner holds an exclusive ``flock`` on its file while it lives. A spill file left by a
process that died (its lock released by the kernel) is adopted by the next exporter using the
same directory, re-sent, and deleted. Runs only in the exporter's background thread.
"""

from __future__ import annotations

import logging
import os
from collections.abc import Iterator
from pathlib import Path
from typing import IO

from agentdeck.core.errors import InputError
from agentdeck.core.trace import Run, Span
from agentdeck.tracing.sink import SpanSink
from agentdeck.tracing.wire import batch_from_bytes, batch_to_bytes

try:  # POSIX; elsewhere orphaned files are simply not adopted
    import fcntl
except ImportError:  # pragma: no cover
    fcntl = None  # type: ignore[assignment]

log = logging.getLogger("agentdeck.tracing")


def _read_offset(path: Path) -> int:
    try:
        return int(path.read_text().strip() or 0)
    except (OSError, ValueError):
        return 0


def _write_offset(path: Path, offset: int) -> None:
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(str(offset))
    os.replace(tmp, path)


def _try_lock(f: IO[bytes]) -> bool:
    if fcntl is None:  # pragma: no cover
        return True
    try:
        fcntl.flock(f.fileno(), fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except OSError:
        return False


class SpillFile:
    """One exporter's spill file in ``directory`` (created on first :meth:`append`)."""

    def __init__(self, directory: str | os.PathLike[str]) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"spill-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
        self._offset_path = self.path.with_name(self.path.name + ".offset")
        self._f: IO[bytes] | None = None
        self._size = 0
        self._offset = 0
        self.corrupt_lines = 0

    @property
    def pending(self) -> bool:
        """True if this file holds batches not yet re-sent."""
        return self._offset < self._size

    def append(self, runs: list[Run], spans: list[Span]) -> None:
        """Write one batch as one line (raises ``OSError`` if the disk refuses)."""
        if self._f is None:
            self.directory.mkdir(parents=True, exist_ok=True)
            self._f = open(self.path, "ab")  # noqa: SIM115 - held open for the exporter's life
            _try_lock(self._f)
        line = batch_to_bytes(runs, spans) + b"\n"
        self._f.write(line)
        self._f.flush()
        self._size += len(line)

    def resend(self, sink: SpanSink) -> int:
        """Deliver pending lines in order; then adopt orphaned spill files of dead processes.

        Returns the number of batches delivered; re-raises the sink's exception on the first
        failure, after recording the progress made so far.
        """
        sent = 0
        if self.pending:
            for line, end in _lines(self.path, self._offset):
                sent += self._deliver(sink, line)
                self._offset = end
                _write_offset(self._offset_path, end)
            if self._f is not None and self._offset >= self._size:
                self._f.truncate(0)
                self._size = self._offset = 0
                _write_offset(self._offset_path, 0)
        sent += self._adopt_orphans(sink)
        return sent

    def _deliver(self, sink: SpanSink, line: bytes) -> int:
        try:
            runs, spans = batch_from_bytes(line, f"{self.path.name}")
        except InputError as exc:
            self.corrupt_lines += 1
            log.warning("agentdeck: skipping unreadable spill line: %s", exc)
            return 0
        sink.write_batch(runs, spans)
        return 1

    def _adopt_orphans(self, sink: SpanSink) -> int:
        sent = 0
        if not self.directory.is_dir():
            return 0
        for path in sorted(self.directory.glob("spill-*.jsonl")):
            if path == self.path:
                continue
            with open(path, "rb") as f:
                if not _try_lock(f):
                    continue  # its owner is alive
                offset_path = path.with_name(path.name + ".offset")
                offset = _read_offset(offset_path)
                for line, end in _lines(path, offset):
                    sent += self._deliver(sink, line)
                    _write_offset(offset_path, end)
                path.unlink(missing_ok=True)
                offset_path.unlink(missing_ok=True)
        return sent

    def close(self) -> None:
        """Release the file; a fully re-sent file is deleted, a pending one stays for adoption."""
        if self._f is None:
            return
        self._f.close()
        self._f = None
        if not self.pending:
            self.path.unlink(missing_ok=True)
            self._offset_path.unlink(missing_ok=True)


def _lines(path: Path, offset: int) -> Iterator[tuple[bytes, int]]:
    """Complete lines from ``offset``, each with the offset just past it (a torn tail is left)."""
    with open(path, "rb") as f:
        f.seek(offset)
        pos = offset
        for line in f:
            if not line.endswith(b"\n"):
                return
            pos += len(line)
            yield line, pos
