"""The docs run: the README's tour and every shell block in docs/*.md, as a new user types them.

Each file runs in a fresh directory (a copy of ``examples/``, an empty SQLite store, its own
HOME) with the real ``agentdeck`` CLI of this checkout; a command that exits with a code the
text does not announce fails the test with the file, the line and the command. The markers
(``<!-- expect-exit: N -->``, ``# exit N``, ``<!-- no-run: why -->``, ``<!-- background -->``,
``<!-- run-python -->``) are described in tests/docs/doc_blocks.py and docs/writing-docs.md.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from tests.docs.doc_blocks import document_commands
from tests.docs.doc_runner import ROOT, run_document

FILES = [ROOT / "README.md", *sorted((ROOT / "docs").glob("*.md"))]
RUNNABLE = [p for p in FILES if document_commands(p)]


@pytest.mark.slow
@pytest.mark.parametrize(
    "doc",
    [pytest.param(p, id=p.name, marks=pytest.mark.xdist_group(f"docs-{p.stem}")) for p in RUNNABLE],
)
def test_every_command_of_the_document_runs_as_written(doc: Path, tmp_path: Path) -> None:
    failures = run_document(doc, tmp_path)
    assert not failures, str(failures[0])


def test_the_readme_tour_and_the_cli_reference_have_commands_to_run() -> None:
    names = {p.name for p in RUNNABLE}
    assert {"README.md", "cli.md"} <= names
