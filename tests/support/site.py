"""A static folder served on 127.0.0.1, whose pages and service workers report back to the test.

Plain HTTP/1.1 on a free loopback port (a secure context: service workers and push work there).
``GET`` serves files from the folder (never cached); ``POST /report/<kind>`` records the JSON body,
so a test waits for what a page or a service worker saw: ``site.wait_for("push")``. A report of
kind ``error`` ends every wait at once with its content.
"""
from __future__ import annotations

import json
import threading
import time
from functools import partial
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path


class _Handler(SimpleHTTPRequestHandler):
    extensions_map = {**SimpleHTTPRequestHandler.extensions_map, ".js": "text/javascript",
                      ".mjs": "text/javascript", ".json": "application/json", ".webmanifest": "application/manifest+json"}

    def end_headers(self) -> None:
        self.send_header("Cache-Control", "no-store")
        super().end_headers()

    def do_POST(self) -> None:  # noqa: N802 - http.server's naming
        length = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(length)
        if not self.path.startswith("/report/"):
            self.send_error(404)
            return
        try:
            content = json.loads(body) if body else None
        except ValueError:
            content = body.decode("utf-8", "replace")
        self.server.site._record(self.path[len("/report/"):], content)
        self.send_response(204)
        self.end_headers()

    def log_message(self, format: str, *args) -> None:
        self.server.site.requests.append(f"{self.command} {self.path}")


class ReportingSite:
    """Serve ``folder`` on 127.0.0.1; collect ``POST /report/<kind>`` bodies in ``reports``."""

    def __init__(self, folder: Path | str, host: str = "127.0.0.1") -> None:
        self.folder = Path(folder)
        self.reports: list[tuple[str, object]] = []
        self.requests: list[str] = []
        self._changed = threading.Condition()
        self._httpd = ThreadingHTTPServer((host, 0), partial(_Handler, directory=str(self.folder)))
        self._httpd.daemon_threads = True
        self._httpd.site = self
        self.url = f"http://{host}:{self._httpd.server_port}"
        self._thread: threading.Thread | None = None

    def __enter__(self) -> "ReportingSite":
        self._thread = threading.Thread(target=self._httpd.serve_forever, args=(0.05,), daemon=True)
        self._thread.start()
        return self

    def __exit__(self, *exc) -> None:
        if self._thread:
            self._httpd.shutdown()
            self._thread.join()
        self._httpd.server_close()

    def _record(self, kind: str, content: object) -> None:
        with self._changed:
            self.reports.append((kind, content))
            self._changed.notify_all()

    def wait_for(self, kind: str, timeout: float = 15.0, explain=None) -> object:
        """The first report of ``kind`` (waiting for it); AssertionError on timeout or on an ``error`` report.

        ``explain`` (a callable returning text) is added to the failure message, e.g. a browser's log.
        """
        deadline = time.monotonic() + timeout
        with self._changed:
            while True:
                for got, content in self.reports:
                    if got == kind:
                        return content
                errors = [content for got, content in self.reports if got == "error"]
                left = deadline - time.monotonic()
                if errors or left <= 0:
                    why = f"the page reported an error: {errors}" if errors else f"waited {timeout} s"
                    extra = f"\n{explain()}" if explain else ""
                    raise AssertionError(f"no {kind!r} report ({why}); reports: {self.reports}; "
                                         f"requests: {self.requests}{extra}")
                self._changed.wait(min(left, 0.5))
