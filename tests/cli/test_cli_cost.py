"""``agentdeck cost``: totals per group (table and ``--json``, the API's shape), a model's
price, an unknown model or group as one line with exit 2, and ``backfill``."""

from __future__ import annotations

import orjson
import pytest

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, TokenUsage
from agentdeck.store import SqlStore

T0 = 1_790_000_000 * 10**9


@pytest.fixture
def db(cli: object, store_url: str) -> str:
    from agentdeck.store import open_store

    store: SqlStore = open_store(store_url)
    for i, (version, model) in enumerate(
        [(1, "gpt-4o-2024-08-06"), (2, "gpt-4o-2024-08-06"), (2, "mystery-x")]
    ):
        tid = f"{i + 1:032x}"
        store.write_batch(
            [Run(tid, "bot", version, f"sha256:{version}", "prod", None, T0 + i, T0 + i + 9, SpanStatus.OK)],
            [Span(tid, f"{i + 1:016x}", None, "chat", SpanKind.LLM, T0 + i, T0 + i + 5,
                  attributes={"llm.model": model}, usage=TokenUsage(100_000, 10_000))],
        )  # fmt: skip
    store.close()
    return store_url


def test_cost_by_version_as_json_and_as_a_table(cli, db: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("cost", "--by", "version", "--db", db, "--json")
    assert r.code == 0, r.err
    rows = {row["version"]: row for row in orjson.loads(r.out)}
    assert rows["bot@1"]["runs"] == 1 and rows["bot@1"]["unpriced_calls"] == 0
    assert rows["bot@1"]["cost_usd"] == pytest.approx(100_000 * 2.5e-6 + 10_000 * 10e-6)
    assert rows["bot@2"]["runs"] == 2 and rows["bot@2"]["unpriced_calls"] == 1
    table = cli("cost", "--db", db)
    assert table.code == 0 and "bot@2" in table.out and "+?" in table.out


def test_runs_list_shows_the_cost_column(cli, db: str) -> None:  # type: ignore[no-untyped-def]
    r = cli("runs", "--db", db, "--json")
    costs = {
        row["trace_id"][-1]: (row["cost_usd"], row["unpriced_calls"]) for row in orjson.loads(r.out)
    }
    assert costs["3"] == (None, 1)
    assert costs["1"][0] == pytest.approx(0.35)
    assert "unpriced" in cli("runs", "--db", db).out


def test_price_of_a_model_and_one_line_errors(cli) -> None:  # type: ignore[no-untyped-def]
    ok = cli("cost", "price", "gpt-4o", "--json")
    assert ok.code == 0 and orjson.loads(ok.out)["input"]["usd_per_mtok"] > 0
    unknown = cli("cost", "price", "mystery-x")
    assert unknown.code == 2 and unknown.err.strip().count("\n") == 0 and "mystery-x" in unknown.err
    bad = cli("cost", "--by", "model")
    assert bad.code == 2 and "--by" in bad.err


def test_backfill_with_a_prices_file_that_learnt_the_model(
    cli, db: str, tmp_path, monkeypatch
) -> None:  # type: ignore[no-untyped-def]
    f = tmp_path / "prices.yaml"
    f.write_text("prices:\n  mystery-x: {input: 10, output: 10}\n")
    monkeypatch.setenv("AGENTDECK_PRICES_FILE", str(f))
    from agentdeck.prices import reset_default_prices

    reset_default_prices()
    try:
        r = cli("cost", "backfill", "--db", db, "--json")
        assert r.code == 0, r.err
        assert orjson.loads(r.out) == {"spans_seen": 1, "spans_priced": 1, "runs": 1}
    finally:
        reset_default_prices()
    rows = {row["version"]: row for row in orjson.loads(cli("cost", "--db", db, "--json").out)}
    assert rows["bot@2"]["unpriced_calls"] == 0
