"""The runs list page: inputs shown as written and HTML-escaped, a latency column, filters by
version and time range (rolling windows and custom from/to), and cursor pages with the total.
Both backends (the ``store`` fixture); runs are written straight into the store."""

from __future__ import annotations

import dataclasses
import re
import time

from demo_data import demo_run
from fastapi.testclient import TestClient
from server_support import Keys

from agentdeck.core.trace.model import Run, Span
from agentdeck.store import SqlStore
from foundation import spec_dict

HOUR_NS = 3600 * 10**9


def _write(store: SqlStore, runs: list[tuple[Run, list[Span]]]) -> None:
    store.write_batch([r for r, _ in runs], [s for _, spans in runs for s in spans])


def _ids(html: str) -> list[str]:
    return re.findall(r'data-trace-id="([0-9a-f]{32})"', html)


def test_inputs_are_shown_as_written_and_escaped(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    run, spans = demo_run()
    text = "I'd like a refund <script>alert(1)</script> caf\u00e9"
    _write(store, [(dataclasses.replace(run, input=text), spans)])
    page = client.get("/ui/runs", headers=keys.header("read")).text
    assert "\\u0027" not in page and "\\u00e9" not in page
    assert "I&#39;d like a refund &lt;script&gt;alert(1)&lt;/script&gt; caf\u00e9" in page
    assert "<script>alert(1)" not in page


def test_the_latency_column_shows_each_runs_duration(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    _write(store, [demo_run()])  # 90 ms from root start to end
    page = client.get("/ui/runs", headers=keys.header("read")).text
    assert "<th>latency</th>" in page
    assert '<td class="latency num">90 ms</td>' in page


def test_version_and_time_range_filters(client: TestClient, keys: Keys, store: SqlStore) -> None:
    now = time.time_ns()
    recent_v1 = demo_run(version=1, start_ns=now - 10 * 60 * 10**9)
    recent_v2 = demo_run(version=2, start_ns=now - 20 * 60 * 10**9)
    day_old = demo_run(version=2, start_ns=now - 30 * HOUR_NS)
    _write(store, [recent_v1, recent_v2, day_old])
    get = lambda q: _ids(client.get("/ui/runs?" + q, headers=keys.header("read")).text)  # noqa: E731
    assert set(get("")) == {r.trace_id for r, _ in (recent_v1, recent_v2, day_old)}
    assert set(get("version=2")) == {recent_v2[0].trace_id, day_old[0].trace_id}
    assert set(get("range=1h")) == {recent_v1[0].trace_id, recent_v2[0].trace_id}
    assert set(get("range=24h&version=2")) == {recent_v2[0].trace_id}
    assert set(get("range=7d")) == {r.trace_id for r, _ in (recent_v1, recent_v2, day_old)}
    lo = time.strftime("%Y-%m-%dT%H:%M", time.gmtime((now - 40 * HOUR_NS) / 1e9))
    hi = time.strftime("%Y-%m-%dT%H:%M", time.gmtime((now - 2 * HOUR_NS) / 1e9))
    assert get(f"range=custom&since={lo}&until={hi}") == [day_old[0].trace_id]
    assert (
        'name="version" id="f-version" value=""'
        in client.get("/ui/runs", headers=keys.header("read")).text
    )  # no agent chosen: a number field
    for prompt in ("one", "two"):
        spec = spec_dict(name="support-bot", system_prompt=prompt)
        assert client.post(
            "/api/v1/agents", json={"spec": spec}, headers=keys.header("admin")
        ).is_success
    page = client.get("/ui/runs?agent=support-bot", headers=keys.header("read")).text
    assert '<option value="2" >@2</option>' in page  # the chosen agent's versions


def test_bad_filter_values_are_named_not_5xx(client: TestClient, keys: Keys) -> None:
    for q, part in (("range=2w", "query.range"), ("version=two", "query.version"),
                    ("range=custom&since=yesterday", "query.since")):  # fmt: skip
        page = client.get("/ui/runs?" + q, headers=keys.header("read"))
        assert page.status_code == 200 and part in page.text, q


def test_cursor_pages_cover_every_run_once_with_the_total(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    now = time.time_ns()
    runs = [demo_run(start_ns=now - i * 10**9) for i in range(7)]
    _write(store, runs)
    seen: list[str] = []
    url = "/ui/runs?limit=3"
    pages = 0
    while url:
        page = client.get(url, headers=keys.header("read")).text
        assert re.search(r'<span id="run-total">7</span>', page)
        seen += _ids(page)
        pages += 1
        m = re.search(r'id="next-page" href="([^"]+)"', page)
        url = m.group(1).replace("&amp;", "&") if m else ""
        if pages > 1:
            assert 'id="first-page"' in page
    assert pages == 3 and seen == [r.trace_id for r, _ in runs]
