"""The catalogue of AGENTDECK_* variables: complete, the only reader, documented, and strict."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import pytest

from agentdeck.core.errors import InputError
from agentdeck.settings.doc import render, variables
from agentdeck.settings.env import (
    ClientEnv,
    CliEnv,
    PolicyEnv,
    RedactionEnv,
    ServerEnv,
    StoreEnv,
    read,
)

ROOT = Path(__file__).resolve().parents[2]
SRC = ROOT / "src" / "agentdeck"
SETTINGS = SRC / "settings"
NAME = re.compile(r"\bAGENTDECK_[A-Z0-9_]*[A-Z0-9]\b")
# A read of the process environment: os.environ.get / os.getenv / os.environ["X"] not assigned.
# (The CLI's ``--db`` option keeps typer's ``envvar=AGENTDECK_DATABASE_URL``, a name the test
# below checks is in the catalogue, so ``agentdeck runs`` does not import pydantic-settings.)
READ = re.compile(r"\benviron\.get\(|\bgetenv\(|\benviron\[[^\]]+\](?!\s*=[^=])")


def _sources() -> list[Path]:
    return [p for p in SRC.rglob("*") if p.suffix in (".py", ".html", ".js") and p.is_file()]


def test_the_doc_table_is_generated_from_the_catalogue() -> None:
    doc = (ROOT / "docs" / "configuration.md").read_text(encoding="utf-8")
    assert doc == render(), "docs/configuration.md is stale: run scripts/gen_settings_doc.py"
    for name in variables():
        assert f"| `{name}` |" in doc


def test_every_variable_named_in_src_is_in_the_catalogue() -> None:
    named = {m for p in _sources() for m in NAME.findall(p.read_text(encoding="utf-8"))}
    assert named  # the scan found the names the code mentions
    assert named - set(variables()) == set()


def test_only_the_settings_package_reads_the_environment() -> None:
    readers = [
        f"{p.relative_to(SRC)}:{n}: {line.strip()}"
        for p in _sources()
        if SETTINGS not in p.parents
        for n, line in enumerate(p.read_text(encoding="utf-8").splitlines(), 1)
        if READ.search(line)
    ]
    assert readers == []


@pytest.mark.parametrize(
    ("section", "var", "value"),
    [
        (ServerEnv, "AGENTDECK_MAX_BODY_BYTES", "0"),
        (ServerEnv, "AGENTDECK_MAX_REQUEST_BYTES", "1MiB"),
        (ServerEnv, "AGENTDECK_INGEST_QUEUE", "-3"),
        (ServerEnv, "AGENTDECK_ALERT_INTERVAL", "soon"),
        (ServerEnv, "AGENTDECK_METRICS_OPEN", "maybe"),
        (ServerEnv, "AGENTDECK_CHECK_ON_INGEST", "2"),
        (ServerEnv, "AGENTDECK_BEHIND_PROXY", "perhaps"),
        (PolicyEnv, "AGENTDECK_APPROVAL_TIMEOUT_S", "0"),
        (RedactionEnv, "AGENTDECK_REDACT_PATTERNS", "{not json"),
        (RedactionEnv, "AGENTDECK_REDACT_PATTERNS", '["a list"]'),
    ],
)
def test_a_bad_value_is_one_line_naming_the_variable(
    monkeypatch: pytest.MonkeyPatch, section: type, var: str, value: str
) -> None:
    monkeypatch.setenv(var, value)
    with pytest.raises(InputError) as info:
        read(section)
    message = str(info.value)
    assert message.startswith(f"{var}: ") and "\n" not in message
    assert repr(value) in message


def test_values_are_read_at_the_call_and_typed(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGENTDECK_DATABASE_URL", "sqlite:///x.db")
    monkeypatch.setenv("AGENTDECK_API_KEY", "ak-secret")
    monkeypatch.setenv("AGENTDECK_CACHE_DIR", "/tmp/cache-here")
    monkeypatch.setenv("AGENTDECK_MAX_BODY_BYTES", "2048")
    monkeypatch.setenv("AGENTDECK_METRICS_OPEN", "on")
    monkeypatch.setenv("AGENTDECK_REDACT", "none")
    monkeypatch.setenv("AGENTDECK_REDACT_KEYS", " member_no , ssn ,")
    monkeypatch.setenv("AGENTDECK_AUDIT_KEY", "keys/audit.pem")
    assert read(StoreEnv).database_url == "sqlite:///x.db"
    client = read(ClientEnv)
    assert client.api_key is not None and client.api_key.get_secret_value() == "ak-secret"
    assert "ak-secret" not in repr(client)
    assert client.cache_dir == Path("/tmp/cache-here")
    server = read(ServerEnv)
    assert (server.max_body_bytes, server.metrics_open, server.check_on_ingest) == (
        2048,
        True,
        True,
    )
    red = read(RedactionEnv)
    assert (red.redact, red.redact_keys) == ((), ("member_no", "ssn"))
    assert read(CliEnv).audit_key == Path("keys/audit.pem")
    monkeypatch.setenv("AGENTDECK_MAX_BODY_BYTES", "")  # empty means unset
    assert read(ServerEnv).max_body_bytes == 16 * 1024 * 1024


def test_a_bad_server_variable_does_not_break_the_sdk(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    from agentdeck.tracing.sdk import api as sdk
    from agentdeck.tracing.sdk.sink import InMemorySink

    monkeypatch.setenv("AGENTDECK_MAX_BODY_BYTES", "lots")
    try:
        sdk.init(sink=InMemorySink(), spill_dir=tmp_path)
        assert sdk.stats() is not None
    finally:
        sdk.shutdown()


def test_neither_the_sdk_import_nor_cli_help_loads_pydantic_settings() -> None:
    code = (
        "import sys, agentdeck, agentdeck.cli.main; "
        "print(sorted(m for m in sys.modules if m.startswith('pydantic_settings')))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout.strip()
    assert out == "[]"


def test_serve_with_a_bad_variable_exits_2_with_one_line_before_listening(tmp_path: Path) -> None:
    import os
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["AGENTDECK_INGEST_QUEUE"] = "many"
    env["PYTHONPATH"] = str(ROOT / "src")
    db = f"sqlite:///{tmp_path / 'a.db'}"
    argv = [sys.executable, "-m", "agentdeck.cli.main", "serve", "--db", db, "--port", str(port)]
    done = subprocess.run(argv, env=env, cwd=tmp_path, capture_output=True, text=True, timeout=120)
    assert done.returncode == 2, done.stderr
    assert (
        done.stderr.strip()
        == "error: AGENTDECK_INGEST_QUEUE: Input should be a valid integer, unable to parse string as an integer, got 'many'"
    )
