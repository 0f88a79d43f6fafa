"""The CLI refuses a mistyped gate key, alert-rule key or spec key in one line, exit 2, with the
nearest valid spelling, and stores nothing."""

from __future__ import annotations

from pathlib import Path

from agentdeck.store import SqlStore
from foundation import EXAMPLE_V1, EXAMPLES, Cli, assert_user_error, row_counts


def test_env_gates_refuses_the_docs_old_spelling_evals_min_pass_rate(
    cli: Cli, seeded: SqlStore
) -> None:
    before = row_counts(seeded)
    r = cli("env", "gates", "staging", "--set", "evals.min_pass_rate=0.9")
    assert_user_error(r, "evals.min_pass_rate", "unknown gate 'evals'", "did you mean 'eval'?")
    assert_user_error(
        cli("env", "gates", "staging", "--set", "eval.min_passrate=0.9"),
        "eval.min_passrate",
        "did you mean 'min_pass_rate'?",
    )
    assert_user_error(
        cli("env", "gates", "staging", "--disable", "previous_env"), "did you mean 'previous-env'?"
    )
    assert row_counts(seeded) == before
    assert seeded.get_gate_config("staging").settings == {}
    assert cli("env", "gates", "staging", "--set", "eval.min_pass_rate=0.9").code == 0
    assert seeded.get_gate_config("staging").settings == {"eval": {"min_pass_rate": 0.9}}


def test_monitor_rules_with_a_mistyped_key_name_the_file_field_and_spelling(
    cli: Cli, tmp_path: Path
) -> None:
    rules = tmp_path / "alerts.yaml"
    rules.write_text(
        (EXAMPLES / "alerts.yaml").read_text().replace("    threshold:", "    treshold:", 1)
    )
    assert_user_error(
        cli("monitor", "--rules", str(rules)),
        "alerts.yaml: rules[0].treshold",
        "did you mean 'threshold'?",
    )


def test_register_with_a_mistyped_spec_key_names_the_nearest_field(
    cli: Cli, seeded: SqlStore, tmp_path: Path
) -> None:
    spec = tmp_path / "agent.yaml"
    text = EXAMPLE_V1.read_text().replace("entrypoint:", "entrypiont:")
    spec.write_text(text.replace("file: prompts/v1.md", f"file: {EXAMPLES / 'prompts/v1.md'}"))
    before = row_counts(seeded)
    assert_user_error(cli("register", str(spec)), "entrypiont", "did you mean 'entrypoint'?")
    assert row_counts(seeded) == before
