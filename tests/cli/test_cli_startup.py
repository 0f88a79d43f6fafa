"""The CLI starts without loading what it does not use: ``--help`` (of every command) and
usage errors import none of the heavy libraries, and a store command only what the store
needs. Each case runs in a fresh interpreter, since the test process has everything loaded.
No timings are asserted (bench/cli_startup_bench.py measures them)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from agentdeck.composition import CAPABILITY_GATES, DeferredGate, all_gates, deployments_service
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, Cli

# Heavy or service-only libraries: none may load for help or a usage error.
HEAVY = (
    "sqlalchemy",
    "alembic",
    "numpy",
    "scipy",
    "genson",
    "fastapi",
    "uvicorn",
    "cel_expr_python",
    "yaml",
    "prometheus_client",
)
# What monitoring, the server and the policy engine bring; a plain store command loads none.
NOT_FOR_STORE_COMMANDS = (
    "numpy",
    "genson",
    "scipy",
    "fastapi",
    "uvicorn",
    "cel_expr_python",
    "prometheus_client",
    "agentdeck.monitor",
    "agentdeck.server",
    "agentdeck.evals",
)

_PROBE = textwrap.dedent(
    """
    import json, sys
    import agentdeck.cli.main as cli
    codes = []
    for argv in json.loads(sys.argv[1]):
        try:
            cli.main(argv)
        except SystemExit as exc:
            codes.append(exc.code)
    loaded = sorted({m for m in sys.modules for h in json.loads(sys.argv[2])
                     if m == h or m.startswith(h + ".")})
    print(json.dumps({"codes": codes, "loaded": loaded}), file=sys.stderr)
    """
)


def _probe(
    argvs: list[list[str]], watch: tuple[str, ...], tmp: Path
) -> tuple[list[object], list[str], str]:
    """Run each argv through ``main`` in one fresh interpreter; return the exit codes, which
    of ``watch`` (modules or packages) got imported, and stdout."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["AGENTDECK_DATABASE_URL"] = f"sqlite:///{tmp / 'probe.db'}"
    env["COLUMNS"] = "120"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs), json.dumps(watch)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["codes"], report["loaded"], proc.stdout


def _all_command_paths() -> list[list[str]]:
    import typer.main

    from agentdeck.cli.main import app

    def walk(cmd: object, path: tuple[str, ...]) -> list[list[str]]:
        out = [list(path)]
        for name, sub in sorted(getattr(cmd, "commands", {}).items()):
            out.extend(walk(sub, (*path, name)))
        return out

    return walk(typer.main.get_command(app), ())


def test_importing_the_cli_and_root_help_load_nothing_heavy(tmp_path: Path) -> None:
    codes, loaded, out = _probe([["--help"]], HEAVY, tmp_path)
    assert codes == [0]
    assert "Usage: agentdeck" in out and "promote" in out
    assert loaded == []


def test_every_commands_help_loads_nothing_heavy(tmp_path: Path) -> None:
    paths = _all_command_paths()
    assert len(paths) > 30  # the whole tree, groups and leaves
    codes, loaded, out = _probe([[*p, "--help"] for p in paths], HEAVY, tmp_path)
    assert codes == [0] * len(paths)
    assert out.count("Usage: agentdeck") == len(paths)
    assert loaded == []


@pytest.mark.parametrize(
    "argv",
    [
        ["bogus"],
        ["promote", "support-bot@1"],  # missing --to
        ["runs", "--limit", "many"],
        ["history", "bot", "--env", "dev", "--colour"],
        ["eval", "suite.yaml", "--agent", "bot@1", "--workers", "0"],
        ["policy"],
        ["env", "gates"],
    ],
    ids=" ".join,
)
def test_usage_errors_exit_2_and_load_nothing_heavy(tmp_path: Path, argv: list[str]) -> None:
    codes, loaded, _ = _probe([argv], HEAVY, tmp_path)
    assert codes == [2]
    assert loaded == []
    assert not (tmp_path / "probe.db").exists()  # nor was the store opened


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "--json"],
        ["history", "bot", "--env", "dev", "--json"],
        ["audit", "log", "--json"],
        ["findings", "--json"],
        ["keys", "list", "--json"],
    ],
    ids=" ".join,
)
def test_store_commands_load_only_the_store(tmp_path: Path, argv: list[str]) -> None:
    codes, loaded, out = _probe([argv], NOT_FOR_STORE_COMMANDS, tmp_path)
    assert codes == [0]
    assert json.loads(out) == []
    assert loaded == []


# -- the composition root's deferred gates ---------------------------------------------------


def test_deferred_gates_carry_their_gates_names() -> None:
    """The names are written out in composition.py so that nothing loads to read them."""
    for name, load in CAPABILITY_GATES:
        assert load().name == name
    real = [g.name for g in all_gates()]
    assert len(set(real)) == len(real)
    assert [name for name, _ in CAPABILITY_GATES] == real[-len(CAPABILITY_GATES) :]


def test_deployments_service_runs_every_gate_of_all_gates(cli: Cli, seeded: SqlStore) -> None:
    svc = deployments_service(seeded)
    assert [g.name for g in svc.gates] == [g.name for g in all_gates()]
    deferred = [g for g in svc.gates if isinstance(g, DeferredGate)]
    assert [g.name for g in deferred] == [name for name, _ in CAPABILITY_GATES]
    assert cli("register", EXAMPLE_V1).code == 0
    r = cli("promote", "support-bot@1", "--to", "dev", "--json")
    assert r.code == 0, r.err
    ran = [g["name"] for g in json.loads(r.out)["gates"]]
    assert ran == [g.name for g in all_gates()]


# -- the read path of issue 17: only the invoked command's module, no Rich for JSON ---------

# Loaded by none of the read commands below (JSON output): Rich renders tables only, the other
# command modules belong to other commands, pydantic-settings reads variables that are unset,
# the JSON Schema validator (and the eval-suite parser) check files, not stored rows, and
# Alembic runs only when the database is not at the scripts' heads.
NOT_FOR_JSON_READS = (
    "rich",
    "alembic",
    "jsonschema",
    "pydantic_settings",
    "agentdeck.settings.env",  # the catalogue (the package itself is a few lines)
    "agentdeck.core.evals.suite",
    "agentdeck.cli.monitor_cmds",
    "agentdeck.cli.eval_cmds",
    "agentdeck.cli.serve_cmds",
    "agentdeck.cli.audit_cmds",
    "agentdeck.cli.replay_cmds",
)


def _probe_default_store(argvs: list[list[str]], watch: tuple[str, ...], tmp: Path) -> Any:
    """Like :func:`_probe`, with ``AGENTDECK_DATABASE_URL`` unset: the default store under
    ``tmp/.agentdeck``, as a user's shell would have it."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("AGENTDECK_")}
    env["COLUMNS"] = "120"
    proc = subprocess.run(
        [sys.executable, "-c", _PROBE, json.dumps(argvs), json.dumps(watch)],
        capture_output=True,
        text=True,
        env=env,
        cwd=tmp,
        timeout=120,
        check=False,
    )
    assert proc.returncode == 0, proc.stderr
    report = json.loads(proc.stderr.strip().splitlines()[-1])
    return report["codes"], report["loaded"], proc.stdout


def test_root_help_does_not_load_rich(tmp_path: Path) -> None:
    codes, loaded, out = _probe([["--help"]], ("rich",), tmp_path)
    assert codes == [0]
    assert "runs" in out and "policy" in out
    assert loaded == []


@pytest.mark.parametrize(
    "argv",
    [
        ["runs", "--json"],
        ["versions", "support-bot", "--json"],
        ["history", "support-bot", "--env", "dev", "--json"],
        ["policy", "versions", "support-refunds", "--json"],
    ],
    ids=" ".join,
)
def test_json_reads_load_only_their_command_and_the_store(tmp_path: Path, argv: list[str]) -> None:
    seed = [
        ["policy", "register", str(EXAMPLE_V1.parent / "policy.yaml")],
        ["register", str(EXAMPLE_V1)],
        ["promote", "support-bot@1", "--to", "dev"],
    ]
    codes, _, _ = _probe_default_store(seed, (), tmp_path)
    assert codes == [0, 0, 0]
    # The read alone, in a fresh interpreter: registering validated a file and rendered.
    codes, loaded, out = _probe_default_store([argv], NOT_FOR_JSON_READS, tmp_path)
    assert codes == [0]
    assert len(json.loads(out)) >= 1 or argv[0] == "runs"
    assert loaded == []


def test_the_policy_read_back_is_the_one_registered(tmp_path: Path) -> None:
    codes, _, out = _probe_default_store(
        [["policy", "versions", "support-refunds", "--json"]], (), tmp_path
    )
    assert codes == [0] and json.loads(out) == []
    reg, _, _ = _probe_default_store(
        [["policy", "register", str(EXAMPLE_V1.parent / "policy.yaml")]], (), tmp_path
    )
    assert reg == [0]
    codes, _, out = _probe_default_store(
        [["policy", "versions", "support-refunds", "--json"]], (), tmp_path
    )
    [version] = json.loads(out)
    assert version["version"] == 1 and version["digest"].startswith("sha256:")


def test_importing_the_store_protocol_does_not_load_sqlalchemy() -> None:
    code = (
        "import sys, agentdeck.store.protocol, agentdeck.tracing.analysis.queries\n"
        "from agentdeck.store import RunQuery\n"
        "print(sorted(m for m in sys.modules if m.split('.')[0] == 'sqlalchemy'))"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, timeout=120, check=True
    )
    assert proc.stdout.strip() == "[]"


def test_the_command_table_names_each_units_commands() -> None:
    """``main`` builds only the unit a command line names: the table must match the app."""
    import typer.main

    from agentdeck.cli.main import COMMAND_UNITS, UNITS, build_app

    full = typer.main.get_command(build_app())
    assert sorted(getattr(full, "commands", {})) == sorted(COMMAND_UNITS)
    for unit in UNITS:
        group = typer.main.get_command(build_app((unit,)))
        names = sorted(getattr(group, "commands", {}))
        assert names == sorted(n for n, u in COMMAND_UNITS.items() if u == unit), unit


def test_version_loads_nothing_heavy(tmp_path: Path) -> None:
    codes, loaded, out = _probe([["--version"]], (*HEAVY, "rich"), tmp_path)
    assert codes == [0]
    assert out.startswith("agentdeck ") and loaded == []
    assert not (tmp_path / "probe.db").exists()
