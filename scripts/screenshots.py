"""Screenshots of the app for the README: the demo community, in Chinese and in English.

Starts the app on a temporary SQLite database with the demo data (`flask seed-demo`), logs in as
`butler1`, and saves docs/screenshots/grid.png and docs/screenshots/visit-form.png at 360×640, device
scale 2; then logs in as `resident1` and saves docs/screenshots/resident-home.png; then the same two
home screens in English (grid-en.png, resident-home-en.png); then logs in to the supervisors' console
(/console/login) as `supervisor1` on a desktop-sized page (1280 wide) and saves the dashboard down to its
coverage heat map as docs/screenshots/dashboard.png, and the ticket list as tickets.png and, in
English, tickets-en.png.
Run: .venv/bin/python scripts/screenshots.py [--out DIR] [--keep-open SECONDS]
"""
from __future__ import annotations

import argparse
import base64
import logging
import os
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from flask_migrate import upgrade  # noqa: E402
from werkzeug.serving import make_server  # noqa: E402

from server import create_app, demo  # noqa: E402
from server.extensions import db  # noqa: E402

CHROMIUM = os.environ.get("GUANJIA_CHROMIUM", "/usr/bin/chromium")
# docs/platform-facts.md: root needs --no-sandbox; the rest stop Chromium calling hosts it cannot reach.
CHROMIUM_ARGS = ["--lang=zh-CN", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update", "--disable-sync"]
PHONE = {"viewport": {"width": 360, "height": 640}, "device_scale_factor": 2, "locale": "zh-CN",
         "is_mobile": True, "has_touch": True, "service_workers": "allow"}
DESKTOP = {"viewport": {"width": 1280, "height": 900}, "device_scale_factor": 1, "locale": "zh-CN"}


def demo_app(folder: Path):
    """A migrated, demo-seeded app on a SQLite file in folder (its own throwaway keys)."""
    app = create_app({"DATABASE_URL": f"sqlite:///{folder / 'demo.sqlite3'}", "SECRET_KEY": "screenshots",
                      "DATA_KEY": base64.urlsafe_b64encode(os.urandom(32)).decode(),
                      "INSTANCE_PATH": str(folder / "instance")})
    with app.app_context():
        upgrade()
        demo.seed(db.session)
        db.session.remove()
    return app


def serve(app):
    logging.getLogger("werkzeug").setLevel(logging.WARNING)  # no line per request
    server = make_server("127.0.0.1", 0, app, threaded=True)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    return server, f"http://127.0.0.1:{server.server_port}"


def logged_in(browser, url: str, username: str, ready: str):
    """A phone of its own, logged in as a demo user, synced, showing `ready`."""
    # bypass_csp: Playwright's wait_for_function evals in the page, which the app's policy forbids
    # (tests/browser/test_policies.py checks the app under it); this only takes pictures.
    page = browser.new_context(base_url=url, bypass_csp=True, **PHONE).new_page()
    page.goto("/")
    page.fill("input[name=username]", username)
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_function("window.guanjia.store.meta.lastSync && !window.guanjia.sync.getStatus().running")
    page.evaluate("document.fonts.ready")
    return page


def console_dashboard(browser, url: str):
    """A desktop browser logged in to the supervisors' console as `supervisor1`, on the dashboard."""
    page = browser.new_context(base_url=url, **DESKTOP).new_page()
    page.goto("/console/login")
    page.fill("input[name=username]", "supervisor1")
    page.fill("input[name=password]", demo.DEMO_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_selector("[data-testid=section][data-name=coverage_by_grid] svg")
    page.evaluate("document.fonts.ready")
    return page


def in_english(page, ready: str) -> None:
    """Switch the app to English with its own button (it keeps the choice) and wait for `ready`."""
    page.click("#lang")
    page.wait_for_function("document.documentElement.lang === 'en'")
    page.wait_for_selector(ready)


def take(url: str, out: Path, keep_open: float = 0) -> None:
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = logged_in(browser, url, "butler1", "[data-testid=household-row]")
        page.screenshot(path=str(out / "grid.png"))
        # An overdue household of the grid, its visit form with a problem found on the checklist.
        page.click("[data-testid=filter-due]")
        page.click("[data-testid=household-row] >> nth=0")
        page.click("[data-testid=do-visit]")
        page.wait_for_selector("[data-testid=visit-form]")
        page.click("[data-testid=check-item][data-key=utilities] [data-testid=check-ok]")
        page.click("[data-testid=check-item][data-key=doors_windows] [data-testid=check-ok]")
        page.click("[data-testid=check-item][data-key=leaks] [data-testid=check-problem]")
        page.fill("[data-testid=check-item][data-key=leaks] [data-testid=check-note]", "卫生间墙角渗水")
        page.click("[data-testid=satisfaction][data-value='4']")
        # The checklist at the top of the screen, the save bar at the bottom.
        page.evaluate("document.querySelector('.checklist').closest('fieldset').scrollIntoView()")
        page.screenshot(path=str(out / "visit-form.png"))
        # The resident's home: their requests and the big 报事报修 button.
        resident = logged_in(browser, url, "resident1", "[data-testid=resident-home] [data-testid=request-row]")
        resident.screenshot(path=str(out / "resident-home.png"))
        in_english(resident, "[data-testid=resident-home] [data-testid=request-row]")
        resident.screenshot(path=str(out / "resident-home-en.png"))
        resident.context.close()
        english = logged_in(browser, url, "butler1", "[data-testid=household-row]")
        in_english(english, "[data-testid=household-row]")
        english.screenshot(path=str(out / "grid-en.png"))
        english.context.close()
        # The supervisors' console: the dashboard from its top to the end of the coverage heat map.
        dashboard = console_dashboard(browser, url)
        heat = dashboard.locator("[data-testid=section][data-name=coverage_heatmap] svg").bounding_box()
        dashboard.screenshot(path=str(out / "dashboard.png"), full_page=True,
                             clip={"x": 0, "y": 0, "width": 1280, "height": heat["y"] + heat["height"] + 24})
        # The ticket list: open tickets, oldest first, with their age and time left; then in English.
        dashboard.goto("/console/tickets")
        dashboard.wait_for_selector("[data-testid=ticket-row]")
        dashboard.screenshot(path=str(out / "tickets.png"))
        dashboard.click("[data-testid=switch-language]")
        dashboard.wait_for_selector("html[lang=en] [data-testid=ticket-row]")
        dashboard.screenshot(path=str(out / "tickets-en.png"))
        dashboard.context.close()
        if keep_open:
            time.sleep(keep_open)
        page.context.close()
        browser.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "screenshots")
    parser.add_argument("--keep-open", type=float, default=0, help="seconds to keep the server up afterwards")
    args = parser.parse_args()
    args.out.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="guanjia-screens-") as tmp:
        app = demo_app(Path(tmp))
        server, url = serve(app)
        try:
            take(url, args.out, args.keep_open)
        finally:
            server.shutdown()
            server.server_close()
            with app.app_context():
                db.engine.dispose()
    print(f"saved grid.png, visit-form.png, resident-home.png, grid-en.png, resident-home-en.png, dashboard.png, "
          f"tickets.png and tickets-en.png in {args.out}")


if __name__ == "__main__":
    main()
