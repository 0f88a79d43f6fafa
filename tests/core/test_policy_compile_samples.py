"""The boolean check's sample contexts are plain trees: a dict leaf is never shared, so a
longer path through it (``cc`` and ``cc[each]``) cannot make a cycle (cel-rust crashed on one)."""

from __future__ import annotations

import orjson

from agentdeck.core.policy.compile import sample_contexts
from agentdeck.core.policy.static import analyze


def test_sample_contexts_have_no_cycles_when_a_field_is_read_whole_and_per_item() -> None:
    facts = analyze('has(args.cc) && args.cc.exists(a, a.startsWith("x"))')
    samples = sample_contexts(facts)
    assert samples
    for s in samples:
        orjson.dumps({k: v for k, v in s.items() if k != "now"})  # raises on a cycle
