"""HTTP-specific helpers for the routes: time parameters; the records' JSON shapes are
:mod:`agentdeck.records.serialize` (shared with the CLI's ``--json``), re-exported here."""

from __future__ import annotations

from agentdeck.core.timeparse import parse_time as parse_time  # the one grammar, re-exported
from agentdeck.core.timeparse import parse_time_ns
from agentdeck.records.serialize import agent_version_json as agent_version_json
from agentdeck.records.serialize import alert_json as alert_json
from agentdeck.records.serialize import approval_json as approval_json
from agentdeck.records.serialize import audit_entry_json as audit_entry_json
from agentdeck.records.serialize import baseline_json as baseline_json
from agentdeck.records.serialize import deployment_json as deployment_json
from agentdeck.records.serialize import eval_summary_json as eval_summary_json
from agentdeck.records.serialize import finding_json as finding_json
from agentdeck.records.serialize import iso as iso
from agentdeck.records.serialize import key_json as key_json
from agentdeck.records.serialize import policy_tests_json as policy_tests_json
from agentdeck.records.serialize import policy_version_json as policy_version_json
from agentdeck.records.serialize import replay_json as replay_json
from agentdeck.records.serialize import run_json as run_json


def time_ns(text: str | None, part: str) -> int | None:
    """An optional time parameter as exact nanoseconds (:mod:`agentdeck.core.timeparse`)."""
    return None if text is None else parse_time_ns(text, part)
