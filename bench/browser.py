"""The butler's phone in headless Chromium: first sync of a whole grid into IndexedDB, and reopening
the app with no network.

- first sync: log in through the form on a grid of 2,000 households, 6,000 people and 20,000 visits
  (the sync bench's grid) and wait until every page is in IndexedDB and nothing is left to do. Timed
  from the click on 登录 to the end of the sync, in the page (`performance.now()`), so the login's
  own request is included. Peak JS heap: `performance.memory.usedJSHeapSize` sampled every 20 ms
  (Chromium with --enable-precise-memory-info), and the heap after a forced garbage collection.
- offline reload: with the service worker in control and the network cut, reload and wait for the
  first household row of the grid list; the figure is the page's own `performance.now()` at that
  moment (from the start of navigation), median of 5.
- shell: bytes of our own HTML, JavaScript and CSS as served (minified by server/pwa.py; icons and
  the manifest excluded), beside their size in pwa/.

The server is the app on a fresh SQLite database, served by Werkzeug in a thread of this process.
"""
from __future__ import annotations

import threading
import time
from pathlib import Path

from werkzeug.serving import make_server

from bench.harness import Sizes, dispose, make_app, median
from bench.world import add_people, add_visits, create_world
from server.auth.models import User
from server.auth.service import hash_password
from server.extensions import db

CHROMIUM = "/usr/bin/chromium"
ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
        "--disable-component-update", "--disable-sync", "--enable-precise-memory-info", "--js-flags=--expose-gc"]
PASSWORD = "bench-password"
SHELL_SUFFIXES = (".html", ".js", ".css")
ROOT = Path(__file__).resolve().parent.parent

# Installed before any of the app's code: the peak heap, and when the grid list first shows a row.
PROBE = """
window.__bench = { peak: 0, firstRow: null };
setInterval(() => { const m = performance.memory; if (m && m.usedJSHeapSize > window.__bench.peak)
  window.__bench.peak = m.usedJSHeapSize; }, 20);
new MutationObserver(() => {
  if (window.__bench.firstRow === null && document.querySelector('[data-testid="households"] [data-id]'))
    window.__bench.firstRow = performance.now();
}).observe(document, { childList: true, subtree: true });
"""


def shell_bytes(pwa: Path = ROOT / "pwa") -> dict:
    """Bytes of our own HTML, JS and CSS as the server sends them to a browser (minified, the service
    worker with its file list written in, gzipped), minified before gzip, and as they lie in pwa/."""
    from server.pwa import read_shell

    shell = read_shell(pwa)
    files, minified, source = {}, 0, 0
    for p in sorted(pwa.rglob("*")):
        if not p.is_file() or p.suffix not in SHELL_SUFFIXES:
            continue
        relative = str(p.relative_to(pwa))
        source += p.stat().st_size
        minified += len(shell.service_worker.encode("utf-8") if relative == "sw.js" else shell.files[relative])
        files[relative] = len(shell.gzipped[relative])
    return {"bytes": sum(files.values()), "minified_bytes": minified, "source_bytes": source, "files": files}


def run(database_url: str, sizes: Sizes, root: Path) -> dict:
    from playwright.sync_api import sync_playwright

    app = make_app(database_url, root / "browser-instance")
    try:
        world = create_world(app, grids=1, households_per_grid=sizes.grid_households)
        households = world.households[0]
        add_people(app, world, households, sizes.grid_people, world.butler_id)
        add_visits(app, households, {h: world.butler_id for h in households}, sizes.grid_visits)
        with app.app_context():
            butler = db.session.get(User, world.butler_id)
            butler.password_hash = hash_password(PASSWORD)
            username = butler.username
            db.session.commit()
        server = make_server("127.0.0.1", 0, app, threaded=True)
        thread = threading.Thread(target=server.serve_forever, daemon=True)
        thread.start()
        url = f"http://127.0.0.1:{server.server_port}"
        try:
            with sync_playwright() as playwright:
                browser = playwright.chromium.launch(executable_path=CHROMIUM, args=ARGS, headless=True)
                try:
                    return {"households": sizes.grid_households, "people": sizes.grid_people,
                            "visits": sizes.grid_visits, **_measure(browser, url, username),
                            "shell": shell_bytes()}
                finally:
                    browser.close()
        finally:
            server.shutdown()
            thread.join()
            server.server_close()
    finally:
        dispose(app)


def _measure(browser, url: str, username: str) -> dict:
    # bypass_csp: Playwright's wait_for_function evals in the page, which the app's policy forbids;
    # this measures the app, and tests/browser/test_policies.py checks it under its policy.
    context = browser.new_context(base_url=url, viewport={"width": 360, "height": 640}, locale="zh-CN",
                                  service_workers="allow", bypass_csp=True)
    context.add_init_script(PROBE)
    page = context.new_page()
    page.goto("/")
    page.wait_for_selector("input[name=username]")
    page.wait_for_function("navigator.serviceWorker.controller !== null", timeout=60_000)
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", PASSWORD)
    page.evaluate("window.__bench.peak = 0; window.__bench.start = performance.now()")
    page.click("button[type=submit]")
    page.wait_for_function("""window.guanjia && window.guanjia.store.meta.lastSync && !window.guanjia.sync.getStatus().running
                              && window.guanjia.store.all('household').length > 0""", polling=20, timeout=120_000)
    first_sync = page.evaluate("performance.now() - window.__bench.start") / 1000
    server = page.evaluate("""performance.getEntriesByType("resource").filter((e) => e.name.endsWith("/api/v1/sync"))
        .map((e) => [e.startTime, e.responseStart, e.responseEnd])""")
    records = page.evaluate("window.guanjia.store.replica.server.size")
    peak = page.evaluate("window.__bench.peak")
    after_gc = page.evaluate("(() => { if (window.gc) window.gc(); return performance.memory.usedJSHeapSize; })()")
    reloads = []
    context.set_offline(True)
    for _ in range(5):
        page.reload()
        page.wait_for_function("window.__bench && window.__bench.firstRow !== null", polling=10, timeout=30_000)
        reloads.append(page.evaluate("window.__bench.firstRow") / 1000)
        time.sleep(0.2)
    context.close()
    return {"first_sync_seconds": first_sync, "records_on_phone": records, "heap_peak_mib": peak / 2**20,
            "heap_after_gc_mib": after_gc / 2**20, "offline_reload_seconds": median(reloads),
            "offline_reload_runs": reloads, "sync_requests": len(server),
            "waiting_for_server_seconds": _covered([(start, first_byte) for start, first_byte, _ in server]) / 1000}


def _covered(spans: list[tuple[float, float]]) -> float:
    """Milliseconds during which at least one request was waiting for its answer."""
    total, end = 0.0, float("-inf")
    for start, stop in sorted(spans):
        if stop > end:
            total += stop - max(start, end)
            end = stop
    return total
