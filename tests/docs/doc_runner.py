"""Run a Markdown file's commands (see doc_blocks) in a fresh directory with the real CLI."""

from __future__ import annotations

import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import dataclass
from pathlib import Path

from tests.docs.doc_blocks import Command, document_commands

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
READY_S = 15


@dataclass(frozen=True)
class Failure:
    file: str
    command: Command
    rc: int | None
    stdout: str
    stderr: str

    def __str__(self) -> str:
        got = "timed out" if self.rc is None else f"exited {self.rc}"
        return (
            f"{self.file}:{self.command.line}: `{self.command.text}` {got}, "
            f"expected {self.command.expect}\n--- stdout\n{self.stdout[-3000:]}"
            f"\n--- stderr\n{self.stderr[-3000:]}"
        )


def fresh_dir(tmp: Path) -> tuple[Path, dict[str, str]]:
    """A working directory with the examples, and an environment with the venv's CLI first."""
    work = tmp / "work"
    shutil.copytree(ROOT / "examples", work / "examples",
                    ignore=shutil.ignore_patterns("__pycache__", ".agentdeck"))  # fmt: skip
    (tmp / "home").mkdir()
    env = {k: v for k, v in os.environ.items() if not k.startswith(("AGENTDECK_", "OTEL_"))}
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp / "home"),
        PYTHONPATH=os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep),
        COLUMNS="100",
        NO_COLOR="1",
        AGENTDECK_ACTOR="docs-test",
    )
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL"):
        env.pop(var, None)
    return work, env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _script(cmd: str, state: Path) -> str:
    """Run ``cmd`` with the shell state (variables, cwd) of the previous commands; save it."""
    return (
        f"[ -f {state} ] && . {state}\nset -a -o pipefail\n{cmd}\nrc=$?\n"
        f"{{ export -p; printf 'cd %q\\n' \"$PWD\"; }} > {state}\nexit $rc\n"
    )


def _serve_port(cmd: str) -> str:
    if not re.search(r"\bagentdeck serve\b", cmd):
        return cmd
    port = _free_port()
    if re.search(r"(--port|-p)[ =]\d+", cmd):
        return re.sub(r"(--port|-p)([ =])\d+", rf"\g<1>\g<2>{port}", cmd)
    return cmd.replace("agentdeck serve", f"agentdeck serve --port {port}", 1)


def _background(
    command: Command, work: Path, env: dict[str, str], state: Path
) -> tuple[int | None, str, str]:
    """Start a long-running command, wait until it speaks (or READY_S), then Ctrl-C it."""
    cmd = _serve_port(command.text)
    log = state.parent / f"background_{command.line}.log"
    with log.open("w") as out:
        proc = subprocess.Popen(
            ["bash", "-c", f"[ -f {state} ] && . {state}\nexec {cmd}"],
            cwd=work, env=env, stdout=out, stderr=subprocess.STDOUT, start_new_session=True,
        )  # fmt: skip
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline and proc.poll() is None:
        seen = log.read_text(errors="replace")
        if seen.strip() and ("serving on" in seen or "agentdeck serve" not in cmd):
            break
        time.sleep(0.1)
    if proc.poll() is None:
        os.killpg(proc.pid, signal.SIGINT)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()
        return 0, log.read_text(errors="replace"), ""
    return proc.returncode, log.read_text(errors="replace"), ""


def run_command(command: Command, work: Path, env: dict[str, str], state: Path) -> tuple[int | None, str, str]:
    if command.background:
        return _background(command, work, env, state)
    if command.python:
        script = state.parent / f"block_{command.line}.py"
        script.write_text(command.text, encoding="utf-8")
        argv = [sys.executable, str(script)]
    else:
        argv = ["bash", "-c", _script(command.text, state)]
    try:
        done = subprocess.run(argv, cwd=work, env=env, capture_output=True, text=True, timeout=TIMEOUT_S)
    except subprocess.TimeoutExpired as exc:
        return None, str(exc.stdout or ""), str(exc.stderr or "")
    return done.returncode, done.stdout, done.stderr


def run_document(path: Path, tmp: Path, label: str | None = None) -> list[Failure]:
    """Run every command of ``path`` in order; stop at the first that gives the wrong exit code."""
    work, env = fresh_dir(tmp)
    state = tmp / "shell_state.sh"
    name = label or str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    for command in document_commands(path):
        started = time.monotonic()
        rc, out, err = run_command(command, work, env, state)
        if os.environ.get("DOCS_TEST_TIMING"):
            print(f"{time.monotonic() - started:6.2f}s {name}:{command.line} {command.text[:70]}")
        if rc != command.expect:
            return [Failure(name, command, rc, out, err)]
    return []
