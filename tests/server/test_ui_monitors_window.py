"""The monitors page honours the window in its URL (SQLite and PostgreSQL): ``?window=24h``
(or any duration) sizes the charts and the selector shows it; a window that is not a duration
is refused, naming the query parameter."""

from __future__ import annotations

import re

import orjson
import pytest
from fastapi.testclient import TestClient
from monitor_hours_data import seed_hours
from server_support import Keys

from agentdeck.store import SqlStore


def _series(page: str) -> dict:
    m = re.search(r'<script type="application/json" id="series-data">(.*?)</script>', page, re.S)
    assert m is not None
    return orjson.loads(m.group(1))  # type: ignore[no-any-return]


def _selected_window(page: str) -> list[str]:
    select = re.search(r'<select name="window" id="m-window"[^>]*>(.*?)</select>', page, re.S)
    assert select is not None
    return re.findall(r'<option value="([^"]+)" selected>', select.group(1))


@pytest.mark.parametrize(("window", "hours"), [("24h", 24), ("12h", 12), ("90m", 1.5), ("2d", 48)])
def test_the_window_in_the_url_sizes_the_charts_and_shows_in_the_selector(
    client: TestClient, keys: Keys, store: SqlStore, window: str, hours: float
) -> None:
    seed_hours(store)
    r = client.get(
        "/ui/monitors",
        params={"agent": "support-bot", "env": "production", "window": window},
        headers=keys.header("read"),
    )
    assert r.status_code == 200
    assert _selected_window(r.text) == [window]
    assert f"runs over the last {window}" in r.text
    series = _series(r.text)
    assert series["bucket_s"] == hours * 3600 / 12
    # the twelve hours end a second ago: a window of more than 13 h holds every run
    n = sum(series["runs"])
    assert n == 12 * 24 if hours > 13 else 0 < n <= hours * 24


def test_without_a_window_the_page_shows_the_last_hour(
    client: TestClient, keys: Keys, store: SqlStore
) -> None:
    seed_hours(store)
    r = client.get("/ui/monitors", params={"agent": "support-bot"}, headers=keys.header("read"))
    assert _selected_window(r.text) == ["1h"] and _series(r.text)["bucket_s"] == 300


@pytest.mark.parametrize("window", ["soon", "0h", "-1h"])
def test_a_window_that_is_not_a_duration_is_refused_naming_the_parameter(
    client: TestClient, keys: Keys, store: SqlStore, window: str
) -> None:
    seed_hours(store, per_hour=1)
    r = client.get("/ui/monitors", params={"window": window}, headers=keys.header("read"))
    assert r.status_code == 400, r.text[:300]
    assert "query.window" in r.text
