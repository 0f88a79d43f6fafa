"""``pip install agentdeck`` is the SDK, the policies, the embedded store and the CLI: the
statistics, PostgreSQL and the server are extras, and a command that needs a missing one says
which in one line (exit 2), never a traceback.

Each case runs in a fresh interpreter in which the extras' modules cannot be imported (a
``sys.meta_path`` finder refuses them, as an install without the extra would), since the test
process has everything installed.
"""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
import tomllib
from pathlib import Path

import pytest

from agentdeck.core.extras import EXTRA_OF_MODULE, MissingExtraError, missing_extra
from foundation import EXAMPLE_V1, EXAMPLES

ROOT = Path(__file__).resolve().parents[1]
EXTRA_MODULES = ("numpy", "scipy", "psycopg", "fastapi", "starlette", "uvicorn", "jinja2",
                 "prometheus_client")  # fmt: skip

_BLOCKER = textwrap.dedent(
    """
    import sys
    BLOCKED = set(sys.argv[1].split(","))
    class _NotInstalled:
        def find_spec(self, name, path=None, target=None):
            if name.split(".")[0] in BLOCKED:
                raise ModuleNotFoundError(f"No module named {name!r}", name=name)
            return None
    sys.meta_path.insert(0, _NotInstalled())
    del sys.argv[1]
    """
)

_SDK = textwrap.dedent(
    """
    import agentdeck
    agentdeck.init()

    @agentdeck.tool
    def lookup_order(order_id: str) -> dict:
        return {"order_id": order_id, "status": "shipped"}

    with agentdeck.run(agent="support-bot@1", input="where is A1?") as run:
        lookup_order("A1")
        run.set_output("shipped")
    result = agentdeck.flush()
    assert result, result
    assert agentdeck.stats().init_error is None, agentdeck.stats().init_error
    print("sdk ok")
    """
)


def _run(code: str, *args: str, cwd: Path, blocked: tuple[str, ...] = EXTRA_MODULES,
         env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:  # fmt: skip
    full_env = {**os.environ, "PYTHONPATH": str(ROOT / "src") + os.pathsep + str(ROOT / "tests")}
    full_env.pop("AGENTDECK_DATABASE_URL", None)
    full_env.update(env or {})
    return subprocess.run(
        [sys.executable, "-c", _BLOCKER + code, ",".join(blocked), *args],
        cwd=cwd, env=full_env, capture_output=True, text=True, timeout=120,
    )  # fmt: skip


def _cli(
    *args: str, cwd: Path, env: dict[str, str] | None = None
) -> subprocess.CompletedProcess[str]:
    return _run("from agentdeck.cli.main import main\nmain()", *args, cwd=cwd, env=env)


def test_base_dependencies_leave_out_statistics_postgres_and_server() -> None:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    base = " ".join(project["dependencies"]).lower()
    for name in ("numpy", "scipy", "psycopg", "fastapi", "uvicorn", "prometheus-client"):
        assert name not in base, f"{name} is a base dependency"
    extras = project["optional-dependencies"]
    assert any("numpy" in d for d in extras["stats"])
    assert any("psycopg" in d for d in extras["postgres"])
    assert any("uvicorn" in d for d in extras["server"])
    for extra in set(EXTRA_OF_MODULE.values()) - {"parquet"}:
        assert extra in extras, f"the error names an extra pyproject does not have: {extra}"


def test_sdk_policies_and_embedded_store_work_without_any_extra(tmp_path: Path) -> None:
    assert _cli("policy", "register", str(EXAMPLES / "policy.yaml"), cwd=tmp_path).returncode == 0
    assert _cli("register", str(EXAMPLE_V1), cwd=tmp_path).returncode == 0
    promoted = _cli("promote", "support-bot@1", "--to", "dev", cwd=tmp_path)
    assert promoted.returncode == 0, promoted.stderr
    sdk = _run(_SDK, cwd=tmp_path)
    assert sdk.returncode == 0, sdk.stderr
    assert "sdk ok" in sdk.stdout
    listed = _cli("runs", "--agent", "support-bot", "--json", cwd=tmp_path)
    assert listed.returncode == 0, listed.stderr
    assert "where is A1?" in listed.stdout
    assert "Traceback" not in sdk.stderr + listed.stderr


@pytest.mark.parametrize(
    ("argv", "extra"),
    [
        (["alerts"], "stats"),
        (["monitor", "--agent", "support-bot"], "stats"),
        (["serve"], "server"),
    ],
)
def test_a_command_needing_a_missing_extra_names_it_in_one_line(
    tmp_path: Path, argv: list[str], extra: str
) -> None:
    done = _cli(*argv, cwd=tmp_path)
    assert done.returncode == 2, done.stderr
    lines = done.stderr.strip().splitlines()
    assert len(lines) == 1, done.stderr
    assert f"pip install 'agentdeck[{extra}]'" in lines[0]


def test_a_postgres_url_without_the_driver_names_the_postgres_extra(tmp_path: Path) -> None:
    env = {"AGENTDECK_DATABASE_URL": "postgresql://postgres@127.0.0.1:5432/test"}
    done = _cli("runs", cwd=tmp_path, env=env)
    assert done.returncode == 2
    assert done.stderr.strip().splitlines() == [
        "error: this needs the 'postgres' extra for the PostgreSQL store (psycopg is not "
        "installed): pip install 'agentdeck[postgres]'"
    ]
    sdk = _run("import agentdeck\nagentdeck.init()\nprint(agentdeck.stats().init_error)",
               cwd=tmp_path, env=env)  # fmt: skip
    assert sdk.returncode == 0
    assert "pip install 'agentdeck[postgres]'" in sdk.stdout


def test_missing_extra_maps_only_the_extras_modules() -> None:
    err = missing_extra(ModuleNotFoundError("No module named 'scipy.stats'", name="scipy.stats"))
    assert isinstance(err, MissingExtraError)
    assert (err.extra, err.module, err.exit_code) == ("stats", "scipy", 2)
    assert missing_extra(ModuleNotFoundError("No module named 'nope'", name="nope")) is None
    assert missing_extra(ImportError("cannot import name x")) is None
