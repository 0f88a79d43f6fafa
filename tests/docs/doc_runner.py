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
from dataclasses import dataclass, field
from pathlib import Path

from tests.docs.doc_blocks import Command, document_commands

ROOT = Path(__file__).resolve().parents[2]
TIMEOUT_S = 120
READY_S = 30
SERVE = re.compile(r"\bagentdeck serve\b")
PORT_OPT = re.compile(r"(--port|-p)([ =])(\d+)")
DEFAULT_PORT = "8600"


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
    for var in ("OPENAI_API_KEY", "OPENAI_BASE_URL", "COLUMNS", "LINES"):
        env.pop(var, None)
    src = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(
        PATH=f"{Path(sys.executable).parent}{os.pathsep}{env.get('PATH', '')}",
        HOME=str(tmp / "home"),
        PYTHONPATH=src,
        NO_COLOR="1",
        AGENTDECK_ACTOR="docs-test",
    )
    return work, env


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _wait_port(port: int, proc: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + READY_S
    while time.monotonic() < deadline and proc.poll() is None:
        with socket.socket() as s:
            if s.connect_ex(("127.0.0.1", port)) == 0:
                return
        time.sleep(0.1)


@dataclass
class DocumentRun:
    """One document's commands in one directory: shell state, servers, the ports they got."""

    work: Path
    env: dict[str, str]
    tmp: Path
    ports: dict[str, str] = field(default_factory=dict)
    background: list[subprocess.Popen[bytes]] = field(default_factory=list)

    @property
    def state(self) -> Path:
        return self.tmp / "shell_state.sh"

    def _ported(self, cmd: str) -> str:
        """The documented ports of servers started here, replaced by the ports they got."""
        for doc_port, real in self.ports.items():
            cmd = re.sub(rf"(?<=[: =]){doc_port}\b", real, cmd)
        return cmd

    def _script(self, cmd: str) -> str:
        """Run ``cmd`` with the shell state (variables, cwd) of the previous commands; save it."""
        s = self.state
        return (
            f"[ -f {s} ] && . {s}\nset -a -o pipefail\n{cmd}\nrc=$?\n"
            f"{{ export -p; printf 'cd %q\\n' \"$PWD\"; }} > {s}\nexit $rc\n"
        )

    def start(self, command: Command) -> tuple[int | None, str, str]:
        """Start a long-running command; a server gets a free port and must accept on it."""
        cmd = command.text
        port: int | None = None
        if SERVE.search(cmd):
            port = _free_port()
            found = PORT_OPT.search(cmd)
            self.ports[found.group(3) if found else DEFAULT_PORT] = str(port)
            if found:
                cmd = PORT_OPT.sub(rf"\g<1>\g<2>{port}", cmd, count=1)
            else:
                cmd = SERVE.sub(f"agentdeck serve --port {port}", cmd, count=1)
        log = self.tmp / f"background_{command.line}.log"
        with log.open("w") as out:
            proc = subprocess.Popen(
                ["bash", "-c", f"[ -f {self.state} ] && . {self.state}\nexec {cmd}"],
                cwd=self.work, env=self.env, stdout=out, stderr=subprocess.STDOUT,
                start_new_session=True,
            )  # fmt: skip
        self.background.append(proc)
        if port is not None:
            _wait_port(port, proc)
        else:
            deadline = time.monotonic() + 5
            while time.monotonic() < deadline and proc.poll() is None and not log.stat().st_size:
                time.sleep(0.1)
        text = log.read_text(errors="replace")
        if proc.poll() is not None:
            return proc.returncode, text, ""
        return 0, text, ""

    def run(self, command: Command) -> tuple[int | None, str, str]:
        if command.background:
            return self.start(command)
        if command.python:
            script = self.tmp / f"block_{command.line}.py"
            script.write_text(command.text, encoding="utf-8")
            argv = [sys.executable, str(script)]
        else:
            argv = ["bash", "-c", self._script(self._ported(command.text))]
        try:
            done = subprocess.run(argv, cwd=self.work, env=self.env, capture_output=True,
                                  text=True, timeout=TIMEOUT_S)  # fmt: skip
        except subprocess.TimeoutExpired as exc:
            return None, str(exc.stdout or ""), str(exc.stderr or "")
        return done.returncode, done.stdout, done.stderr

    def stop(self) -> None:
        """Ctrl-C every long-running command, as a user at the terminal would."""
        for proc in self.background:
            if proc.poll() is None:
                os.killpg(proc.pid, signal.SIGINT)
        for proc in self.background:
            try:
                proc.wait(timeout=10)
            except subprocess.TimeoutExpired:
                os.killpg(proc.pid, signal.SIGKILL)
                proc.wait()


def run_document(path: Path, tmp: Path, label: str | None = None) -> list[Failure]:
    """Run every command of ``path`` in order; stop at the first that gives the wrong exit code."""
    work, env = fresh_dir(tmp)
    doc = DocumentRun(work, env, tmp)
    name = label or str(path.relative_to(ROOT) if path.is_relative_to(ROOT) else path)
    try:
        for command in document_commands(path):
            started = time.monotonic()
            rc, out, err = doc.run(command)
            if os.environ.get("DOCS_TEST_TIMING"):
                print(
                    f"{time.monotonic() - started:6.2f}s {name}:{command.line} {command.text[:70]}"
                )
            if rc != command.expect:
                return [Failure(name, command, rc, out, err)]
    finally:
        doc.stop()
    return []
