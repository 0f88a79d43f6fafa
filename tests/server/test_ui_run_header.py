"""The run page's header as computed and rendered, for a run record that carries a cost (the
cost fields are added to the run record by the pricing work; the header reads ``cost_usd``
when it is there) and for one that does not."""

from __future__ import annotations

from dataclasses import dataclass

from long_run_data import long_run

from agentdeck.server.ui.common import templates
from agentdeck.server.ui.run_view import RunHeader, run_header
from agentdeck.store import SqlStore
from agentdeck.tracing.analysis.queries import load_trace


@dataclass(frozen=True)
class _PricedRun:
    """A run record as the pricing work extends it: every field of the run, plus its cost."""

    run: object
    cost_usd: float | None

    def __getattr__(self, name: str) -> object:
        return getattr(self.run, name)


def _rendered(store: SqlStore, cost: float | None) -> tuple[str, RunHeader]:
    run, spans, _ = long_run()
    store.write_batch([run], spans)
    trace = load_trace(store, run.trace_id)
    if cost is not None:
        trace = type(trace)(_PricedRun(trace.run, cost), trace.spans, trace.roots)  # type: ignore[arg-type]
    header = run_header(store, trace)
    page = templates.get_template("run_header.html").render(
        header=header, run=trace.run, trace=trace
    )
    return page, header


def test_the_header_shows_the_cost_the_run_record_carries(store: SqlStore) -> None:
    page, header = _rendered(store, 0.01234)
    assert header.cost_usd == 0.01234
    assert '<dd id="run-cost">$0.0123</dd>' in page


def test_without_a_cost_the_header_says_not_priced(store: SqlStore) -> None:
    page, header = _rendered(store, None)
    assert header.cost_usd is None
    assert "not priced" in page
