"""The pytest plugin, as a team would use it in its own CI (run through ``pytester``)."""

from __future__ import annotations

import pytest
from conftest_helpers import EXAMPLE, SUITE


def test_plugin_fixtures_run_the_agent_and_assert_on_its_actions(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        test_bot=f"""
        import re

        SPEC = {str(EXAMPLE / "agent.v1.yaml")!r}
        SUITE = {str(SUITE)!r}
        STUBS = [
            {{"tool": "issue_refund", "result": {{"refund_id": "RF-1", "status": "issued"}}}},
            {{"tool": "send_email", "result": {{"message_id": "M-1"}}}},
        ]
        MSG = "ORD-1027 was defective, refund to my card please. I'm max.kim@example.com"

        def test_refund_within_limit(agentdeck_run):
            run = agentdeck_run(SPEC, MSG, fixtures=STUBS)
            assert run.called("issue_refund", amount=lambda a: a <= 500)
            assert run.called("send_email", to=re.compile("@example[.]com$"))
            assert run.tools == ("lookup_order", "verify_identity", "issue_refund", "send_email")
            assert "RF-1" in run.output

        def test_a_failing_assertion_fails(agentdeck_run):
            run = agentdeck_run(SPEC, MSG, fixtures=STUBS)
            assert run.called("issue_refund", amount=lambda a: a > 500)

        def test_suite_case(agentdeck_case):
            run = agentdeck_case(SUITE, "refund-wrong-email", agent=SPEC)
            assert run.verdict.passed, run.verdict.reasons
            assert not run.called("issue_refund")
        """
    )
    result = pytester.runpytest_inprocess("-p", "no:randomly", "-q", "-p", "no:cacheprovider")
    result.assert_outcomes(passed=2, failed=1)
    result.stdout.fnmatch_lines(["*test_a_failing_assertion_fails*"])


def test_plugin_is_registered_by_entry_point() -> None:
    from importlib.metadata import entry_points

    names = {e.name: e.value for e in entry_points(group="pytest11")}
    assert names.get("agentdeck") == "agentdeck.evals.pytest_plugin"
