"""Every command takes ``--json``; ``agentdeck --version``; ``serve --json`` names the address
it is bound to (a real server answers there); ``env path`` and ``audit checkpoint`` in JSON."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, Cli


def _leaf_commands() -> list[tuple[tuple[str, ...], object]]:
    """Every command of the full app that runs (groups with a callback of their own count)."""
    import typer.main

    from agentdeck.cli.main import app

    found: list[tuple[tuple[str, ...], object]] = []

    def walk(cmd: object, path: tuple[str, ...]) -> None:
        subs = getattr(cmd, "commands", None)
        if path and (not subs or getattr(cmd, "invoke_without_command", False)):
            found.append((path, cmd))
        for name, sub in sorted((subs or {}).items()):
            walk(sub, (*path, name))

    walk(typer.main.get_command(app), ())
    return found


def test_every_command_accepts_json() -> None:
    leaves = _leaf_commands()
    assert len(leaves) > 40  # the whole tree, walked from the Typer app
    names = {" ".join(p) for p, _ in leaves}
    assert {"serve", "env path", "audit checkpoint", "runs", "alerts"} <= names
    missing = [
        " ".join(path)
        for path, cmd in leaves
        if "--json" not in {o for p in getattr(cmd, "params", []) for o in getattr(p, "opts", [])}
    ]
    assert missing == []


def test_version_prints_the_installed_version(cli: Cli) -> None:
    from importlib.metadata import version

    r = cli("--version")
    assert r.code == 0
    assert r.out.strip() == f"agentdeck {version('agentdeck')}"
    assert "--version" in cli("--help").out


def test_env_path_json_is_the_apis_answer(cli: Cli) -> None:
    r = cli("env", "path", "dev", "qa", "production", "--json")
    assert r.code == 0, r.err
    assert json.loads(r.out) == {"envs": ["dev", "qa", "production"]}


def test_audit_checkpoint_json(cli: Cli, seeded: SqlStore, tmp_path: Path) -> None:
    assert cli("register", EXAMPLE_V1).code == 0
    key = tmp_path / "audit.key"
    assert cli("audit", "keygen", "--key", key).code == 0
    r = cli("audit", "checkpoint", "--key", key, "--json")
    assert r.code == 0, r.err
    cp = json.loads(r.out)
    assert cp["seq"] >= 1 and isinstance(cp["signature"], str)
    out = tmp_path / "cps.jsonl"
    r = cli("audit", "checkpoint", "--key", key, "--out", out, "--json")
    assert r.code == 0 and json.loads(r.out)["seq"] == cp["seq"]
    assert json.loads(out.read_text().splitlines()[-1]) == json.loads(r.out)


def _serve(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{tmp_path / 'serve.db'}"
    return subprocess.Popen(
        [sys.executable, "-m", "agentdeck.cli.main", "serve", "--host", "127.0.0.1",
         "--log-level", "warning", *args],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path,
    )  # fmt: skip


def _stop(proc: subprocess.Popen[str]) -> None:
    proc.send_signal(signal.SIGINT)
    try:
        proc.wait(15)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait(5)


def _read_json_document(proc: subprocess.Popen[str], timeout: float = 60) -> dict[str, object]:
    assert proc.stdout is not None
    text, deadline = "", time.monotonic() + timeout
    while time.monotonic() < deadline:
        line = proc.stdout.readline()
        if not line:
            break
        text += line
        if line.rstrip() == "}":
            return dict(json.loads(text))
    raise AssertionError(f"no JSON document on stdout: {text!r}")


def test_serve_json_names_the_bound_address_and_serves_there(tmp_path: Path) -> None:
    proc = _serve(tmp_path, "--port", "0", "--json")
    try:
        info = _read_json_document(proc)
        port = info["port"]
        assert isinstance(port, int) and port > 0  # port 0: the one the kernel chose
        assert info["url"] == f"http://127.0.0.1:{port}"
        assert info["ui"] == f"http://127.0.0.1:{port}/ui"
        assert info["otlp"] == f"http://127.0.0.1:{port}/v1/traces"
        assert info["database"] == f"sqlite:///{tmp_path / 'serve.db'}"
        deadline = time.monotonic() + 30
        while True:
            try:
                assert httpx.get(f"{info['url']}/healthz", timeout=1).status_code == 200
                break
            except httpx.HTTPError:
                assert time.monotonic() < deadline and proc.poll() is None
                time.sleep(0.1)
    finally:
        _stop(proc)


def test_serve_on_a_taken_port_is_one_plain_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        proc = _serve(tmp_path, "--port", str(port))
        try:
            _, err = proc.communicate(timeout=60)
        finally:
            if proc.poll() is None:
                _stop(proc)
    assert proc.returncode == 2
    lines = err.strip().splitlines()
    assert len(lines) == 1, err
    assert lines[0].startswith(f"error: --host 127.0.0.1 --port {port}: cannot listen there")
    assert "Traceback" not in err and "OSError" not in err


@pytest.mark.parametrize("argv", [["--json"], []], ids=["json", "text"])
def test_serve_prints_before_it_serves(tmp_path: Path, argv: list[str]) -> None:
    """The address line comes once the socket is bound (the text form on stderr)."""
    proc = _serve(tmp_path, "--port", "0", *argv)
    try:
        if argv:
            assert _read_json_document(proc)["host"] == "127.0.0.1"
        else:
            assert proc.stderr is not None
            line = proc.stderr.readline()
            assert line.startswith("agentdeck serving on http://127.0.0.1:"), line
            assert ":0 " not in line and "/ui" in line
    finally:
        _stop(proc)
