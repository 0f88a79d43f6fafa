"""The local spill: batches that could not be delivered, kept on disk until they can be.

Each exporter owns one append-only file ``spill-<pid>-<random>.jsonl`` in the spill directory:
one line per batch, in the wire format (:mod:`agentdeck.tracing.sdk.wire`). A sibling
``.offset`` file holds how many bytes have been re-sent, written atomically (temp file +
``os.replace``) after every delivered line, so a re-send resumes where it stopped, even in a
new process. Re-sending a line twice is harmless: sinks are idempotent by span id.

The owner holds an exclusive ``flock`` on its file while it lives. A spill file left by a
process that died (its lock released by the kernel) is adopted by the next exporter using the
same directory, re-sent, and deleted.

The exporter's two threads share a spill: the drain thread appends, the send thread re-sends;
a lock guards the size, offset and truncation (never held during a send). Batches refused for
good go to a :class:`DeadLetterFile` beside it (``deadletter-<pid>-<random>.jsonl``), kept for
a person to read. Spill, offset and dead-letter files are created 0600 in a 0700 directory:
they hold what the agent recorded.
"""

from __future__ import annotations

import logging
import os
import threading
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from agentdeck.core.errors import InputError
from agentdeck.core.trace.model import Run, Span
from agentdeck.tracing.sdk.sink import SpanSink
from agentdeck.tracing.sdk.wire import batch_from_bytes, batch_to_bytes, batch_to_dict, dumps

#: Delivers one batch or raises (a sink's ``write_batch``, or the exporter's splitting sender).
Send = Callable[[list[Run], list[Span]], None]

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
    with _open_private(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, "wb") as f:
        f.write(str(offset).encode())
    os.replace(tmp, path)


def private_dir(directory: Path) -> None:
    """Create ``directory`` 0700 (parents as needed); tighten it to 0700 if it is ours."""
    directory.mkdir(mode=0o700, parents=True, exist_ok=True)
    st = directory.stat()
    if st.st_uid == os.getuid() and st.st_mode & 0o077:
        os.chmod(directory, 0o700)


def _open_private(path: Path, flags: int, mode: str) -> IO[bytes]:
    """``path`` opened with ``flags``, created 0600 (and made 0600 if it existed)."""
    fd = os.open(path, flags, 0o600)
    os.fchmod(fd, 0o600)
    return os.fdopen(fd, mode)


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
        self._lock = threading.Lock()
        self._size = 0
        self._offset = 0
        self._items = 0
        self.corrupt_lines = 0

    @property
    def pending(self) -> bool:
        """True if this file holds batches not yet re-sent."""
        return self._offset < self._size

    @property
    def pending_items(self) -> int:
        """Runs and spans written here and not yet re-sent."""
        return self._items

    def append(self, runs: list[Run], spans: list[Span]) -> None:
        """Write one batch as one line (raises ``OSError`` if the disk refuses)."""
        line = batch_to_bytes(runs, spans) + b"\n"
        with self._lock:
            if self._f is None:
                private_dir(self.directory)
                flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
                self._f = _open_private(self.path, flags, "ab")
                _try_lock(self._f)
            self._f.write(line)
            self._f.flush()
            self._size += len(line)
            self._items += len(runs) + len(spans)

    def resend(self, sink: SpanSink | Send) -> int:
        """Deliver pending lines in order; then adopt orphaned spill files of dead processes.

        Returns the number of batches delivered; re-raises the sink's exception on the first
        failure, after recording the progress made so far.
        """
        send: Send = sink.write_batch if isinstance(sink, SpanSink) else sink
        sent = 0
        if self.pending:
            with self._lock:
                start, stop = self._offset, self._size
            for line, end in _lines(self.path, start, stop):
                n = self._deliver(send, line)
                sent += n > 0
                with self._lock:
                    self._offset = end
                    self._items = max(0, self._items - n)
                    _write_offset(self._offset_path, end)
            with self._lock:
                if self._f is not None and self._offset >= self._size:
                    self._f.truncate(0)
                    self._size = self._offset = self._items = 0
                    _write_offset(self._offset_path, 0)
        sent += self._adopt_orphans(send)
        return sent

    def _deliver(self, send: Send, line: bytes) -> int:
        """Send one line; the number of items it held (0 for an unreadable line)."""
        try:
            runs, spans = batch_from_bytes(line, f"{self.path.name}")
        except InputError as exc:
            self.corrupt_lines += 1
            log.warning("agentdeck: skipping unreadable spill line: %s", exc)
            return 0
        send(runs, spans)
        return max(1, len(runs) + len(spans))

    def _adopt_orphans(self, send: Send) -> int:
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
                    sent += self._deliver(send, line) > 0
                    _write_offset(offset_path, end)
                path.unlink(missing_ok=True)
                offset_path.unlink(missing_ok=True)
        return sent

    def close(self) -> None:
        """Release the file; a fully re-sent file is deleted, a pending one stays for adoption."""
        with self._lock:
            if self._f is None:
                return
            self._f.close()
            self._f = None
            if not self.pending:
                self.path.unlink(missing_ok=True)
                self._offset_path.unlink(missing_ok=True)


class DeadLetterFile:
    """Batches a destination refused for good, one JSON line each, kept for a person to read:
    ``{"v": 1, "error": "...", "status": 400, "batch": {...wire format...}}``.

    Created 0600 on first use; at most ``max_bytes`` are written (past that a batch is not
    kept and :meth:`append` returns False, so the exporter counts it lost).
    """

    def __init__(self, directory: str | os.PathLike[str], max_bytes: int = 64 << 20) -> None:
        self.directory = Path(directory)
        self.path = self.directory / f"deadletter-{os.getpid()}-{os.urandom(4).hex()}.jsonl"
        self.max_bytes = max_bytes
        self._size = 0
        self._lock = threading.Lock()

    def append(self, runs: list[Run], spans: list[Span], error: str, status: int | None) -> bool:
        line = dumps(  # wire.dumps: captured JSON bytes (Frozen) are written as they are
            {"v": 1, "error": error, "status": status, "batch": batch_to_dict(runs, spans)}
        )
        with self._lock:
            if self._size + len(line) + 1 > self.max_bytes:
                return False
            private_dir(self.directory)
            flags = os.O_WRONLY | os.O_CREAT | os.O_APPEND
            with _open_private(self.path, flags, "ab") as f:
                f.write(line + b"\n")
            self._size += len(line) + 1
        return True


def _lines(path: Path, offset: int, stop: int | None = None) -> Iterator[tuple[bytes, int]]:
    """Complete lines from ``offset`` (up to ``stop``), each with the offset just past it (a
    torn tail is left)."""
    with open(path, "rb") as f:
        f.seek(offset)
        pos = offset
        for line in f:
            if not line.endswith(b"\n") or (stop is not None and pos + len(line) > stop):
                return
            pos += len(line)
            yield line, pos
