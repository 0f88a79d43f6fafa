"""Paging runs by cursor on a real uvicorn server, on both backends: ``GET /api/v1/runs``
follows ``X-Next-Cursor`` to every run exactly once while new runs arrive; ``offset`` still
works and is bounded; a bad cursor is a 400 naming it; ``count=true`` gives a total; the runs
page links to the next page and the link carries the filters."""

from __future__ import annotations

import re
from collections.abc import Iterator
from html import unescape

import httpx
import pytest
from server_support import Keys, make_keys

from agentdeck.core.trace.model import Run, Span, SpanKind, SpanStatus, new_span_id, new_trace_id
from agentdeck.server.app import create_app
from agentdeck.server.settings import ServerSettings
from agentdeck.store import SqlStore
from app_thread import serve_in_thread


@pytest.fixture
def live(store: SqlStore) -> Iterator[tuple[str, Keys]]:
    keys = make_keys(store)
    url, stop = serve_in_thread(create_app(store, ServerSettings()))
    try:
        yield url, keys
    finally:
        stop()


def _runs(store: SqlStore, n: int, start: int, status: SpanStatus = SpanStatus.OK) -> list[str]:
    made = [
        Run(new_trace_id(), "bot", 1, None, "production", None, start + i // 3, None, status)
        for i in range(n)
    ]  # three runs share each start time: the id breaks ties
    tools = [
        Span(r.trace_id, new_span_id(), None, "refund", SpanKind.TOOL, r.start_ns, r.start_ns + 1,
             attributes={"tool.name": "refund"})
        for r in made
    ]  # fmt: skip
    store.write_batch(made, tools)
    return [r.trace_id for r in made]


def _get(url: str, keys: Keys, path: str, **params: str) -> httpx.Response:
    return httpx.get(f"{url}{path}", params=params, headers=keys.header("read"), timeout=30)


@pytest.mark.parametrize("filters", [{}, {"tool": "refund", "status": "error"}])
def test_cursor_pages_hold_every_run_once_while_runs_arrive(
    store: SqlStore, live: tuple[str, Keys], filters: dict[str, str]
) -> None:
    url, keys = live
    old = set(_runs(store, 40, 1_000, SpanStatus.ERROR))
    seen: list[str] = []
    params = {**filters, "limit": "6"}
    for _ in range(100):
        r = _get(url, keys, "/api/v1/runs", **params)
        assert r.status_code == 200, r.text
        seen.extend(x["trace_id"] for x in r.json())
        _runs(store, 2, 10**12 + len(seen), SpanStatus.ERROR)  # newer runs arrive meanwhile
        nxt = r.headers.get("X-Next-Cursor")
        if nxt is None:
            break
        params = {**filters, "limit": "6", "cursor": nxt}
    assert len(seen) == len(set(seen)) == len(old)
    assert set(seen) == old


def test_offset_is_bounded_and_a_bad_cursor_is_a_400(
    store: SqlStore, live: tuple[str, Keys]
) -> None:
    url, keys = live
    ids = _runs(store, 12, 5_000)
    first = _get(url, keys, "/api/v1/runs", limit="5", offset="5").json()
    assert [x["trace_id"] for x in first] == [
        x["trace_id"] for x in _get(url, keys, "/api/v1/runs", limit="10").json()[5:10]
    ]
    assert len(ids) == 12
    for params, part in (
        ({"offset": "10001"}, "query.offset"),
        ({"cursor": "not-a-cursor"}, "query.cursor"),
        ({"cursor": "MTIz"}, "query.cursor"),
        ({"count": "maybe"}, "query.count"),
    ):
        r = _get(url, keys, "/api/v1/runs", **params)
        assert r.status_code == 400, (params, r.text)
        assert part in r.text
    ok = _get(url, keys, "/api/v1/runs", limit="5")
    r = _get(url, keys, "/api/v1/runs", cursor=ok.headers["X-Next-Cursor"], offset="1")
    assert r.status_code == 400 and "query.offset" in r.text


def test_count_is_exact_when_cheap(store: SqlStore, live: tuple[str, Keys]) -> None:
    url, keys = live
    _runs(store, 9, 1_000, SpanStatus.ERROR)
    _runs(store, 4, 2_000)
    r = _get(url, keys, "/api/v1/runs", limit="2", count="true")
    assert r.headers["X-Total-Count"] == "13"
    r = _get(url, keys, "/api/v1/runs", status="error", count="true")
    assert r.headers["X-Total-Count"] == "9" and "X-Next-Cursor" not in r.headers
    r = _get(url, keys, "/api/v1/runs", tool="refund", limit="5", count="true")
    assert r.headers["X-Total-Count"] == "13" and "X-Next-Cursor" in r.headers
    assert "X-Total-Count" not in _get(url, keys, "/api/v1/runs").headers


def test_count_beyond_the_cap_is_an_estimate_or_a_bound(store: SqlStore) -> None:
    from agentdeck.core.trace.query import RunQuery

    _runs(store, 30, 1_000)
    assert store.count_runs(RunQuery(), cap=100).n == 30
    got = store.count_runs(RunQuery(), cap=10)
    assert got.kind in ("estimate", "at_least") and got.n >= 10
    assert got.text().startswith(("about", "more than"))


def test_runs_page_links_to_the_next_page_with_its_filters(
    store: SqlStore, live: tuple[str, Keys]
) -> None:
    url, keys = live
    errors = set(_runs(store, 7, 1_000, SpanStatus.ERROR))
    _runs(store, 5, 1_000)
    seen: list[str] = []
    path = "/ui/runs?status=error&limit=3"
    for _ in range(10):
        page = httpx.get(f"{url}{path}", headers=keys.header("read"), timeout=30)
        assert page.status_code == 200, page.text
        seen.extend(re.findall(r'data-trace-id="([0-9a-f]+)"', page.text))
        assert re.search(r'id="run-total">7<', page.text)
        link = re.search(r'id="next-page" href="([^"]+)"', page.text)
        if link is None:
            break
        path = unescape(link.group(1))
        assert "status=error" in path and "limit=3" in path and "cursor=" in path
        assert (
            'id="first-page"'
            in httpx.get(f"{url}{path}", headers=keys.header("read"), timeout=30).text
        )
    assert len(seen) == len(set(seen)) and set(seen) == errors
    bad = httpx.get(f"{url}/ui/runs?cursor=zz", headers=keys.header("read"), timeout=30)
    assert bad.status_code == 200 and "cursor" in bad.text and "next-page" not in bad.text
