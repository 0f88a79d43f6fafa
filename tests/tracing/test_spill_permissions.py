"""Spill, offset and dead-letter files hold what the agent recorded: 0600 in a 0700 directory,
whatever the umask."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest

from agentdeck.core.trace.model import Span, SpanKind
from agentdeck.tracing.sdk.sink import InMemorySink
from agentdeck.tracing.sdk.spill import DeadLetterFile, SpillFile


def _mode(path: Path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


def _span(i: int) -> Span:
    return Span("a" * 32, f"{i + 1:016x}", None, f"s{i}", SpanKind.CUSTOM, i, i + 1, seq=i)


@pytest.fixture(autouse=True)
def open_umask() -> Iterator[None]:
    old = os.umask(0o022)  # the common default: files 0644, directories 0755
    try:
        yield
    finally:
        os.umask(old)


def test_spill_and_offset_files_are_0600_in_a_0700_directory(tmp_path: Path) -> None:
    directory = tmp_path / "deep" / "spill"
    spill = SpillFile(directory)
    spill.append([], [_span(0)])
    spill.append([], [_span(1)])
    assert _mode(directory) == 0o700 and _mode(spill.path) == 0o600

    class FailSecond(InMemorySink):
        calls = 0

        def write_batch(self, runs: object, spans: object) -> None:
            self.calls += 1
            if self.calls == 2:
                raise ConnectionError("down")
            super().write_batch(runs, spans)  # type: ignore[arg-type]

    with pytest.raises(ConnectionError):
        spill.resend(FailSecond())
    offset = spill.path.with_name(spill.path.name + ".offset")
    assert offset.exists() and _mode(offset) == 0o600
    spill.close()


def test_dead_letter_file_is_0600_and_an_existing_open_directory_is_tightened(
    tmp_path: Path,
) -> None:
    directory = tmp_path / "spill"
    directory.mkdir(mode=0o755)
    os.chmod(directory, 0o755)
    dead = DeadLetterFile(directory)
    assert dead.append([], [_span(0)], "HTTP 400: bad", 400)
    assert _mode(directory) == 0o700 and _mode(dead.path) == 0o600


def test_a_dead_letter_file_stops_at_its_size_limit(tmp_path: Path) -> None:
    dead = DeadLetterFile(tmp_path, max_bytes=600)
    assert dead.append([], [_span(0)], "HTTP 400", 400)
    assert not dead.append([], [_span(1), _span(2), _span(3)], "HTTP 400", 400)
    assert len(dead.path.read_bytes().splitlines()) == 1
