"""Measure the run page of a store's longest run in chromium: the page's height with the steps
closed and with every step open, and the graph's label size in CSS px.

    python scripts/measure_run_page.py .agentdeck/demo.db

Serves a copy of the SQLite store (``agentdeck serve`` on a free loopback port, a read key
made in the copy), opens the run's page at 1400 px wide, signs in, and prints one line.
Needs /usr/bin/chromium and Playwright (the browser tests' set-up: tests/server/browser_support.py).
"""

from __future__ import annotations

import shutil
import sqlite3
import sys
import tempfile
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "tests" / "server"))

from browser_support import launch_chromium, open_page, sign_in
from live import LiveServer, free_port

from agentdeck.registry.keys import create_key
from agentdeck.store import open_store

OPEN_ALL = """() => { const b = document.getElementById('expand-all');
  if (b) { b.click(); } else { document.querySelectorAll('details.step').forEach(d => d.open = true); } }"""
LABEL_PX = "() => agentdeckGraph.zoom() * parseFloat(agentdeckGraph.nodes()[0].style('font-size'))"
HEIGHT = "() => document.documentElement.scrollHeight"


def main(db: Path) -> None:
    work = Path(tempfile.mkdtemp(prefix="run-page-"))
    copy = work / "store.db"
    shutil.copy(db, copy)
    with sqlite3.connect(copy) as c:
        tid, n = c.execute(
            "select trace_id, count(*) from spans group by trace_id"
            " order by count(*) desc, trace_id limit 1"
        ).fetchone()
    url = f"sqlite:///{copy}"
    store = open_store(url)
    key = create_key(store, "measure", ["read"], "measure").token
    store.close()
    server = LiveServer(url, free_port(), work / "server.log").start()
    try:
        for browser in launch_chromium():
            page, _ = open_page(browser, f"{server.url}/ui/runs/{tid}", width=1400)
            sign_in(page, key, "#trace-id")
            page.wait_for_selector("#graph canvas")
            closed = page.evaluate(HEIGHT)
            label = page.evaluate(LABEL_PX)
            page.evaluate(OPEN_ALL)
            opened = page.evaluate(HEIGHT)
            print(
                f"run {tid}: {n} spans; page height {closed} px, every step open {opened} px; "
                f"graph labels {label:.1f} px"
            )
    finally:
        server.stop()
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main(Path(sys.argv[1]))
