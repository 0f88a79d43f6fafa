"""The docs test's own rules: what runs, what is expected, and how a failure is reported."""

from __future__ import annotations

from pathlib import Path

from tests.docs.doc_blocks import blocks, commands
from tests.docs.doc_runner import run_document

DOC = """# title

```console
$ echo one
one
$ false   # exits 1: announced
```

<!-- expect-exit: 2 -->
```sh
sh -c 'exit 2'
```

<!-- no-run: needs a real model key -->
```bash
false
```

```text
false
```

<!-- run-python -->
```python
print("hi")
```

```python
raise SystemExit(3)
```

```bash
X=41
echo $((X + 1)) > answer.txt
cat > f.txt <<'END'
false
END
```
"""


def _cmds(text: str) -> list[tuple[str, int, int]]:
    return [(c.text, c.line, c.expect) for b in blocks(text) for c in commands(b)]


def test_commands_come_from_shell_blocks_with_the_announced_exit_codes() -> None:
    found = _cmds(DOC)
    assert found[0] == ("echo one", 4, 0)
    assert found[1] == ("false   # exits 1: announced", 6, 1)
    assert found[2] == ("sh -c 'exit 2'", 11, 2)
    assert ('print("hi")', 25, 0) in found
    assert [t for t, _, _ in found[-3:]] == [
        "X=41",
        "echo $((X + 1)) > answer.txt",
        "cat > f.txt <<'END'\nfalse\nEND",
    ]
    assert all("raise" not in t and t != "false" for t, _, _ in found)


def test_a_document_whose_commands_exit_as_announced_passes(tmp_path: Path) -> None:
    doc = tmp_path / "ok.md"
    doc.write_text(DOC, encoding="utf-8")
    (tmp_path / "run").mkdir()
    assert run_document(doc, tmp_path / "run", label="ok.md") == []
    assert (tmp_path / "run" / "work" / "answer.txt").read_text().strip() == "42"


def test_an_unannounced_failure_names_the_file_line_and_command(tmp_path: Path) -> None:
    doc = tmp_path / "bad.md"
    doc.write_text("intro\n\n```sh\necho fine\nagentdeck show nobody@1\necho never\n```\n")
    (tmp_path / "run").mkdir()
    failures = run_document(doc, tmp_path / "run", label="bad.md")
    assert len(failures) == 1
    message = str(failures[0])
    assert message.startswith("bad.md:5: `agentdeck show nobody@1` exited 2, expected 0")
