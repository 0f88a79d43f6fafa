"""Bounded parsers (issue 16): a YAML bomb, a document nested too deep or too large, and a
recursive alias are refused in one line naming the file, exit 2, nothing written, for every
kind of file the CLI reads (agent specs, policies, eval suites, alert rules); the refusal of
``policy register bomb.yaml`` is measured in a child process (peak RSS, wall time)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import pytest

from agentdeck.core.errors import SpecError
from agentdeck.core.yaml_bounded import YamlLimits, parse_yaml_text
from agentdeck.evals.runner import load_suite
from agentdeck.monitor.alert_rules import load_alert_config
from agentdeck.registry.specfile import load_agent_spec, load_policy_spec
from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, REPO, Cli, assert_user_error, row_counts

_LAUGHS = ["a: &a [lol, lol, lol, lol, lol, lol, lol, lol, lol]"] + [
    f"{chr(98 + i)}: &{chr(98 + i)} [{', '.join([f'*{chr(97 + i)}'] * 9)}]" for i in range(8)
]


def bomb(under: str | None = None) -> str:
    """A billion-laughs document (9**9 strings once expanded); ``under`` nests it in a key."""
    if under is None:
        return "\n".join(_LAUGHS) + "\n"
    return f"{under}:\n" + "".join(f"  {line}\n" for line in _LAUGHS)


def _policy_bomb(tmp_path: Path) -> Path:
    p = tmp_path / "bomb.yaml"
    p.write_text(
        "name: bomb\nrules:\n  - id: r\n    when: 'true'\n    effect: allow\n" + bomb("description")
    )
    return p


def test_policy_register_refuses_a_billion_laughs(
    cli: Cli, store: SqlStore, tmp_path: Path
) -> None:
    before = row_counts(store)
    path = _policy_bomb(tmp_path)
    r = cli("policy", "register", path)
    assert_user_error(r, str(path), "refused YAML", "expands to more than")
    assert row_counts(store) == before


def test_register_refuses_a_bomb_in_an_agent_specs_metadata(
    cli: Cli, store: SqlStore, tmp_path: Path
) -> None:
    spec = tmp_path / "agent.yaml"
    spec.write_text(EXAMPLE_V1.read_text("utf-8") + bomb("metadata"))
    (tmp_path / "prompts").symlink_to(EXAMPLE_V1.parent / "prompts")
    before = row_counts(store)
    r = cli("register", spec)
    assert_user_error(r, str(spec), "refused YAML")
    assert row_counts(store) == before


@pytest.mark.parametrize(
    ("text", "words"),
    [
        ("a: " + "[" * 200 + "]" * 200 + "\n", ("nested deeper than 64 levels", "line 1")),
        ("a: &a [1, *a]\n", ("recursive alias",)),
        ("a: &a {k: *a}\n", ("recursive alias",)),
        ("x: &x " + "y" * 100 + "\n" + "l: [" + ", ".join(["*x"] * 1001) + "]\n", ("aliases",)),
    ],
)
def test_every_kind_of_file_refuses_the_same_way(
    tmp_path: Path, text: str, words: tuple[str, ...]
) -> None:
    path = tmp_path / "doc.yaml"
    path.write_text(text)
    for load in (load_agent_spec, load_policy_spec, load_suite, load_alert_config):
        with pytest.raises(SpecError) as info:
            load(path)
        message = str(info.value)
        assert message.startswith(str(path)) and "\n" not in message
        for w in words:
            assert w in message, message


def test_a_file_past_the_size_limit_is_refused_before_it_is_parsed(
    cli: Cli, tmp_path: Path
) -> None:
    path = tmp_path / "policy.yaml"
    path.write_text("name: big\nrules: []\ndescription: '" + "x" * (5 * 1024 * 1024) + "'\n")
    r = cli("policy", "register", path)
    assert_user_error(r, str(path), "byte limit for YAML")


def test_ordinary_documents_with_anchors_still_load(tmp_path: Path) -> None:
    text = (
        "defaults: &d {timeout: 5, retries: 2}\n"
        "a: {<<: *d, name: a}\n"
        "b: [*d, *d]\n"
        "deep: " + "[" * 60 + "1" + "]" * 60 + "\n"
    )
    data = parse_yaml_text(text, "doc.yaml")
    assert data["a"] == {"timeout": 5, "retries": 2, "name": "a"}
    assert data["b"] == [{"timeout": 5, "retries": 2}] * 2
    assert parse_yaml_text("", "empty.yaml") is None
    # the real example files are far inside every limit
    for name in ("agent.v1.yaml", "agent.v2.yaml", "policy.yaml", "alerts.yaml"):
        p = REPO / "examples" / "support-bot" / name
        assert parse_yaml_text(p.read_text("utf-8"), str(p), YamlLimits()) is not None


def test_limits_are_exact(tmp_path: Path) -> None:
    limits = YamlLimits(max_depth=3, max_aliases=2, max_expanded=50, max_bytes=100)
    assert parse_yaml_text("[[[1]]]", "d", limits) == [[[1]]]
    with pytest.raises(SpecError, match="nested deeper than 3"):
        parse_yaml_text("[[[[1]]]]", "d", limits)
    assert parse_yaml_text("- &a x\n- *a\n- *a\n", "d", limits) == ["x"] * 3
    with pytest.raises(SpecError, match="more than 2 aliases"):
        parse_yaml_text("- &a x\n- *a\n- *a\n- *a\n", "d", limits)
    with pytest.raises(SpecError, match="expands to more than 50"):
        parse_yaml_text("- &a " + "x" * 30 + "\n- *a\n", "d", limits)
    with pytest.raises(SpecError, match="100-byte limit"):
        parse_yaml_text("x" * 101, "d", limits)


# Measures a grandchild from a fresh, small interpreter: a child forked straight from pytest
# would report pytest's own resident size (ru_maxrss counts the pages before exec).
_MEASURE = """
import resource, subprocess, sys, time
start = time.monotonic()
try:
    done = subprocess.run(sys.argv[1:], capture_output=True, timeout=120)
except subprocess.TimeoutExpired:
    print("timeout"); sys.exit(0)
peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss * 1024
print(done.returncode, peak, time.monotonic() - start)
sys.stdout.write(done.stderr.decode())
"""


def _peak_rss_and_seconds(args: list[str], env: dict[str, str]) -> tuple[int, int, float, str]:
    """Run ``args``: its exit code, peak RSS in bytes (that process only), wall time, stderr."""
    out = subprocess.run(
        [sys.executable, "-c", _MEASURE, *args], env=env, capture_output=True, timeout=300
    )
    first, _, err = out.stdout.decode().partition("\n")
    if first == "timeout":  # the unbounded parser hangs for many minutes
        pytest.fail("policy register did not finish on a YAML bomb within 120 s")
    code, rss, seconds = first.split()
    return int(code), int(rss), float(seconds), err


def test_policy_register_on_a_bomb_stays_small_in_a_child_process(tmp_path: Path) -> None:
    path = _policy_bomb(tmp_path)
    env = {
        **os.environ,
        "AGENTDECK_DATABASE_URL": f"sqlite:///{tmp_path / 'cli.db'}",
        "PYTHONPATH": os.pathsep.join(sys.path),
    }
    code, rss, seconds, err = _peak_rss_and_seconds(
        [sys.executable, "-m", "agentdeck.cli.main", "policy", "register", str(path)], env
    )
    assert code == 2, err
    assert "refused YAML" in err and "Traceback" not in err
    # the whole CLI process (interpreter and imports included) stays under 100 MB
    assert rss < 100 * 1024 * 1024, rss
    print(
        f"policy register bomb.yaml: exit {code}, peak RSS {rss / 2**20:.1f} MiB, {seconds:.2f} s"
    )
