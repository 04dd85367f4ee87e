"""Stock firefox-esr, headless, as a plain process with its own profile (Playwright cannot drive it).

Its push client (``PushServiceWebSocket``) is pointed at a local autopush stand-in through the
profile's ``user.js``: ``dom.push.serverURL`` = the stand-in's ``ws://`` URL, allowed by
``dom.push.testing.allowInsecureServerURL``. Everything else in :data:`QUIET_PREFS` keeps a
headless Firefox from calling home (first-run pages, telemetry, updates, remote settings, safe
browsing, captive-portal checks) so that it starts fast and only talks to 127.0.0.1.

Firefox's stdout/stderr (push client debug log, page and service-worker console) go to
``<profile>.log``; failures quote its tail.
"""
from __future__ import annotations

import json
import os
import signal
import subprocess
import time
from pathlib import Path

FIREFOX = os.environ.get("GUANJIA_FIREFOX", "/usr/bin/firefox-esr")

# Facts from docs/platform-facts.md ("Web Push"): the first four make push work against a local
# ws:// server without a permission prompt; without alerts.useSystemBackend=false a headless
# showNotification() fails.
PUSH_PREFS = {
    "dom.push.enabled": True,
    "dom.push.connection.enabled": True,
    "dom.push.testing.allowInsecureServerURL": True,
    "dom.push.testing.ignorePermission": True,
    "permissions.default.desktop-notification": 1,
    "alerts.useSystemBackend": False,
    "dom.serviceWorkers.enabled": True,
    "dom.serviceWorkers.testing.enabled": True,
    "dom.push.loglevel": "Debug",            # into the log file, for failure messages
}

QUIET_PREFS = {
    # first run, default browser, session restore, welcome pages
    "browser.shell.checkDefaultBrowser": False,
    "browser.startup.homepage_override.mstone": "ignore",
    "browser.startup.page": 0,
    "startup.homepage_welcome_url": "",
    "startup.homepage_welcome_url.additional": "",
    "startup.homepage_override_url": "",
    "browser.aboutwelcome.enabled": False,
    "browser.sessionstore.resume_from_crash": False,
    "browser.tabs.warnOnClose": False,
    "browser.warnOnQuit": False,
    "toolkit.startup.max_resumed_crashes": -1,
    "browser.newtabpage.enabled": False,
    "browser.uitour.enabled": False,
    # telemetry and studies
    "datareporting.policy.dataSubmissionEnabled": False,
    "datareporting.policy.firstRunURL": "",
    "datareporting.healthreport.uploadEnabled": False,
    "toolkit.telemetry.enabled": False,
    "toolkit.telemetry.unified": False,
    "toolkit.telemetry.server": "",
    "toolkit.telemetry.reportingpolicy.firstRun": False,
    "app.normandy.enabled": False,
    "app.shield.optoutstudies.enabled": False,
    "browser.ping-centre.telemetry": False,
    "browser.newtabpage.activity-stream.feeds.telemetry": False,
    "browser.newtabpage.activity-stream.telemetry": False,
    # updates of the app, add-ons, system add-ons, GMP plugins, remote settings
    "app.update.auto": False,
    "app.update.checkInstallTime": False,
    "app.update.disabledForTesting": True,
    "extensions.update.enabled": False,
    "extensions.getAddons.cache.enabled": False,
    "extensions.systemAddon.update.enabled": False,
    "extensions.blocklist.enabled": False,
    "media.gmp-manager.updateEnabled": False,
    "media.gmp-provider.enabled": False,
    "browser.region.network.url": "",
    "browser.region.update.enabled": False,
    "browser.search.update": False,
    "browser.safebrowsing.malware.enabled": False,
    "browser.safebrowsing.phishing.enabled": False,
    "browser.safebrowsing.downloads.enabled": False,
    "browser.safebrowsing.provider.mozilla.updateURL": "",
    "browser.safebrowsing.provider.google4.updateURL": "",
    "browser.discovery.enabled": False,
    "browser.topsites.contile.enabled": False,
    "identity.fxaccounts.enabled": False,
    "signon.rememberSignons": False,
    # network: direct, no connectivity or captive-portal probes, no speculative connections
    "network.proxy.type": 0,
    "network.captive-portal-service.enabled": False,
    "network.connectivity-service.enabled": False,
    "captivedetect.canonicalURL": "",
    "network.http.speculative-parallel-limit": 0,
    "network.dns.disablePrefetch": True,
    "network.prefetch-next": False,
    # console output of pages and service workers goes to stdout (the log file)
    "devtools.console.stdout.content": True,
    "devtools.console.stdout.chrome": True,
    "browser.dom.window.dump.enabled": True,
}


def write_user_js(profile: Path, prefs: dict) -> None:
    """Write prefs as ``user.js`` (read at every start, overriding prefs.js)."""
    profile.mkdir(parents=True, exist_ok=True)
    lines = [f"user_pref({json.dumps(name)}, {json.dumps(value)});" for name, value in prefs.items()]
    (profile / "user.js").write_text("\n".join(lines) + "\n", encoding="utf-8")


class Firefox:
    """One headless firefox-esr process on a profile folder, opened at ``url``; ``close()`` ends it.

    It runs in its own process group (its content processes with it), so closing it ends them all.
    """

    def __init__(self, url: str, profile: Path, prefs: dict, *, executable: str = FIREFOX) -> None:
        self.url = url
        self.profile = Path(profile)
        write_user_js(self.profile, prefs)
        self.log_path = self.profile.with_name(self.profile.name + ".log")
        env = {**os.environ, "MOZ_HEADLESS": "1", "MOZ_CRASHREPORTER_DISABLE": "1",
               "MOZ_DISABLE_AUTO_SAFE_MODE": "1", "MOZ_NO_REMOTE": "1"}
        with open(self.log_path, "wb") as log:
            self.process = subprocess.Popen(
                [executable, "--headless", "--profile", str(self.profile), "--no-remote", url],
                stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT, env=env,
                start_new_session=True)
        self.started = time.monotonic()
        self.hello = None   # the autopush Hello of its push client, once launch_with_push saw it

    def log(self, tail: int = 80) -> str:
        """The last lines Firefox printed (push client log, console)."""
        try:
            lines = self.log_path.read_text("utf-8", "replace").splitlines()
        except FileNotFoundError:
            return "(no log)"
        return "\n".join(lines[-tail:])

    def explain(self) -> str:
        state = "running" if self.process.poll() is None else f"exited with {self.process.returncode}"
        return f"--- firefox-esr ({state}), {self.log_path}:\n{self.log()}"

    def close(self, timeout: float = 5.0) -> None:
        """SIGTERM (Firefox quits), then SIGKILL for whatever of its process group is left."""
        if self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait(timeout)
        try:
            os.killpg(self.process.pid, signal.SIGKILL)  # the group this process led: its children
        except (ProcessLookupError, PermissionError):
            pass

    def __enter__(self) -> "Firefox":
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def launch_with_push(url: str, profile: Path, autopush, *, prefs: dict | None = None,
                     hello_timeout: float = 30.0) -> Firefox:
    """Firefox whose push client uses ``autopush`` (an AutopushServer), opened at ``url`` once it said hello.

    Firefox first opens the stand-in's launch page, which moves on to ``url`` only after Firefox's
    push connection did its ``hello`` — a subscription made earlier would be silently lost. This
    returns once that hello arrived (AssertionError with Firefox's log if it never does).
    """
    hellos = len(autopush.hellos)
    firefox = Firefox(autopush.launch_url(url, after_hellos=hellos), profile,
                      {**QUIET_PREFS, **PUSH_PREFS, "dom.push.serverURL": autopush.ws_url, **(prefs or {})})
    try:
        firefox.hello = autopush.wait_for_hello(hellos + 1, timeout=hello_timeout)
    except AssertionError as error:
        explanation = firefox.explain()
        firefox.close()
        raise AssertionError(f"{error}\n{explanation}") from None
    return firefox
