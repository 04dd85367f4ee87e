"""Locust users that behave like Guanjia's phones and the supervisors' console (run by bench/load).

Not a standalone file: `python -m bench.load` seeds the world, starts the servers, logs the butlers in
and writes the plan this file reads (LOAD_PLAN: hosts, tokens, how many of each user). Every request
goes to 127.0.0.1, each to the next server in turn (a load balancer's round robin, per phone).

- ButlerPhone: the first sync, paging until `more` is false, then every ~4 s a sync carrying 1–3 new
  visits or touchpoints, built as pwa/js/sync.js builds them (the same envelope, a new `mid` each).
- ButlerChannel, ResidentChannel: the open app's live channel, as pwa/js/live.js holds it: one
  GET /api/v1/notifications to learn the cursor, then `?after=<cursor>&wait=25` in a loop. A butler's
  channel times each new ticket from its commit (the event's `at`, written in the ticket's
  transaction, on this machine's clock) to the poll returning with it: "poke latency".
- ResidentReporter: a resident's app raising a request (报事报修) through sync every ~15 s.
- Supervisor: logs in through the console's form (with its CSRF token) and loads the dashboard.
"""
from __future__ import annotations

import itertools
import json
import os
import random
import re
import time
import uuid
from datetime import datetime, timedelta, timezone

from locust import HttpUser, between, constant, events, task
from requests.adapters import HTTPAdapter
from urllib3.exceptions import TimeoutError as Urllib3Timeout
from urllib3.util.retry import Retry

PLAN = json.loads(open(os.environ["LOAD_PLAN"], encoding="utf-8").read())
HOSTS: list[str] = PLAN["hosts"]
# A load test sends traffic only to this machine's own servers.
assert HOSTS and all(h.startswith("http://127.0.0.1:") for h in HOSTS), HOSTS
SETTINGS = PLAN["settings"]
PAGE = 1000
WAIT_S = 25
CHINA = timezone(timedelta(hours=8))
CSRF = re.compile(r'name="csrf_token"\s+value="([^"]+)"')


class _AgainOnADroppedConnection(Retry):
    """Send a request again, once, when its connection failed under it, as browsers do: gunicorn closes
    a kept-alive connection after 2 s idle, and a phone whose requests alternate between two servers
    leaves each idle about that long, so now and then a request goes out on a connection the server
    is closing at that moment (it fails within a millisecond, with no answer). Sync is safe to resend
    (exactly once by `mid`). A timeout is not resent: it is the server's slowness, and counts. Every
    resend is counted in the report, so a server that drops connections often cannot hide behind it."""

    def increment(self, method=None, url=None, response=None, error=None, _pool=None, _stacktrace=None):
        if isinstance(error, (Urllib3Timeout, TimeoutError)):
            raise error
        again = super().increment(method, url, response, error, _pool, _stacktrace)
        observed["resends"] += 1
        return again


def resend_once_on_a_dropped_connection(client) -> None:
    client.mount("http://", HTTPAdapter(max_retries=_AgainOnADroppedConnection(
        total=1, connect=1, read=1, status=0, other=0, redirect=0, allowed_methods=None, raise_on_status=False)))


_butlers = itertools.cycle(PLAN["butlers"])
_butler_channels = itertools.cycle(PLAN["butlers"])
_residents = itertools.cycle(PLAN["residents"])
_reporters = itertools.cycle(PLAN["residents"])
_supervisors = itertools.cycle(PLAN["supervisors"])

# What the run observed beyond Locust's own statistics (written to PLAN["report"] at the end).
observed = {"per_server": {h: {"requests": 0, "syncs": 0} for h in HOSTS}, "mutations_sent": 0,
            "mutations_applied": 0, "tickets_raised": 0, "pokes": 0, "first_syncs": 0, "first_sync_records": 0,
            "requests": 0, "resends": 0, "stopped_by_request_limit": False,
            "sync_times": [], "ready_times": [],  # when each sync answered; when each phone finished its first sync
            "latencies": {}}  # kind -> [[when it ended, ms], ...]: percentiles for a window of the run
raised: set[str] = set()
clock = {"start": None, "stop": None}


def now_with_offset() -> str:
    return datetime.now(CHINA).isoformat(timespec="milliseconds")


def envelope(client_id: str, cursor: str | None, mutations: list[dict]) -> dict:
    return {"client_id": client_id, "schema": 1, "cursor": cursor, "limit": PAGE, "mutations": mutations}


def put(rtype: str, fields: dict) -> dict:
    return {"mid": str(uuid.uuid4()), "type": rtype, "id": str(uuid.uuid4()), "op": "put", "base": None,
            "fields": fields, "at": now_with_offset()}


def answered(found: dict) -> dict:
    """A new visit's checklist: `found`, and every other item of the community's checklist ok (其余全部正常),
    as the form must send it."""
    return {key: {"ok": True, "note": ""} for key in PLAN["checklist"]} | found


def visit(household_id: str) -> dict:
    """What the visit form saves (pwa/js/views/visit.js) for a new visit."""
    ok = random.random() > 0.2
    return put("visit", {
        "household_id": household_id, "visited_at": now_with_offset(), "kind": "routine",
        "checklist": answered({"leaks": {"ok": ok, "note": "" if ok else "厨房水槽下渗水"}}),
        "needs": random.sample(["桶装水", "保洁", "家电维修"], random.randint(0, 2)),
        "satisfaction": random.randint(3, 5), "products_interest": ["water"] if random.random() < 0.3 else [],
        "notes": "入户走访，住户反馈良好。"})


def touchpoint(household_id: str) -> dict:
    """What the touchpoint sheet saves (pwa/js/views/touchpoint.js)."""
    return put("touchpoint", {"household_id": household_id, "at": now_with_offset(),
                              "channel": random.choice(["lobby", "phone", "wechat"]), "summary": "大堂偶遇，问候近况"})


class Phone(HttpUser):
    """A user of the API with a device token; each request goes to the next server."""

    abstract = True
    host = HOSTS[0]

    def on_start(self) -> None:
        resend_once_on_a_dropped_connection(self.client)
        self.turn = random.randrange(len(HOSTS))
        self.client_id = str(uuid.uuid4())
        self.cursor: str | None = None

    def url(self, path: str) -> str:
        self.turn += 1
        return HOSTS[self.turn % len(HOSTS)] + path

    def headers(self) -> dict:
        return {"Authorization": f"Bearer {self.token}", "Accept-Language": "zh-CN"}

    def sync(self, name: str, mutations: list[dict]) -> dict | None:
        """One POST /api/v1/sync; the answer, or None (counted as a failure) when it is not whole."""
        url = self.url("/api/v1/sync")
        with self.client.post(url, json=envelope(self.client_id, self.cursor, mutations), headers=self.headers(),
                              name=name, catch_response=True, timeout=60) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}: {response.text[:200]}")
                return None
            answer = response.json()
            results = answer.get("results", [])
            if len(results) != len(mutations):
                response.failure("incomplete answer")
                return None
            bad = [r for r in results if r.get("status") not in ("applied", "merged")]
            if bad:
                response.failure(f"mutation {bad[0].get('status')}: {json.dumps(bad[0], ensure_ascii=False)[:200]}")
                return None
            server = url.rsplit("/api/", 1)[0]
            observed["per_server"][server]["syncs"] += 1
            observed["sync_times"].append(round(time.time(), 3))
            observed["mutations_sent"] += len(mutations)
            observed["mutations_applied"] += len(results)
            self.cursor = answer.get("cursor", self.cursor)
            return answer

    def pull_all(self, name: str, mutations: list[dict] = ()) -> list[dict] | None:
        """Push what there is, then pull until `more` is false (pwa/js/sync.js rounds())."""
        changes, sent = [], list(mutations)
        while True:
            answer = self.sync(name, sent)
            if answer is None:
                return None
            sent = []
            changes.extend(answer.get("changes", []))
            if not answer.get("more"):
                return changes


class ButlerPhone(Phone):
    fixed_count = PLAN["counts"]["butler_phones"]
    wait_time = between(SETTINGS["sync_every_min"], SETTINGS["sync_every_max"])

    def on_start(self) -> None:
        super().on_start()
        phone = next(_butlers)
        self.token = phone["token"]
        self.households: list[str] = phone.get("households", [])
        if "cursor" in phone:  # its first sync was made before the run (LOAD_WARM)
            self.client_id, self.cursor = phone["client_id"], phone["cursor"]
            observed["first_syncs"] += 1
            observed["ready_times"].append(time.time())
            return
        started = time.perf_counter()
        changes = None
        while changes is None:  # a failed first sync is retried, as the phone's backoff would
            changes = self.pull_all("first sync")
            if changes is None:
                time.sleep(2)
        events.request.fire(request_type="SYNC", name="first sync (all pages)",
                            response_time=(time.perf_counter() - started) * 1000, response_length=0,
                            exception=None, context={})
        observed["first_syncs"] += 1
        observed["ready_times"].append(time.time())
        observed["first_sync_records"] += len(changes)
        self.households = [c["id"] for c in changes if c.get("type") == "household" and c.get("op") == "put"]

    @task
    def work(self) -> None:
        if not self.households:
            return
        made = [random.choice((visit, touchpoint))(random.choice(self.households)) for _ in range(random.randint(1, 3))]
        self.pull_all("sync", made)


class Channel(Phone):
    """The open app's long poll (pwa/js/live.js)."""

    abstract = True
    wait_time = constant(0)
    times_pokes = False

    def on_start(self) -> None:
        super().on_start()
        self.live_cursor: str | None = None
        self.failures = 0

    @task
    def poll(self) -> None:
        first = self.live_cursor is None
        path = "/api/v1/notifications" if first else f"/api/v1/notifications?after={self.live_cursor}&wait={WAIT_S}"
        with self.client.get(self.url(path), headers=self.headers(), name="live start" if first else "live poll",
                             catch_response=True, timeout=WAIT_S + 15) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")
                self.failures += 1
                time.sleep(min(60, 2 * 2 ** (self.failures - 1)))  # live.js's backoff
                return
            answer = response.json()
        self.failures = 0
        arrived = time.time()
        if not first and self.times_pokes:
            for event in answer.get("events", []):
                if event.get("event") == "ticket.created" and event.get("id") in raised:
                    at = datetime.fromisoformat(event["at"]).timestamp()
                    observed["pokes"] += 1
                    events.request.fire(request_type="LIVE", name="poke latency",
                                        response_time=max(0.0, arrived - at) * 1000, response_length=0,
                                        exception=None, context={})
        self.live_cursor = answer.get("cursor", self.live_cursor)


class ButlerChannel(Channel):
    fixed_count = PLAN["counts"]["butler_channels"]
    times_pokes = True

    def on_start(self) -> None:
        super().on_start()
        self.token = next(_butler_channels)["token"]


class ResidentChannel(Channel):
    fixed_count = PLAN["counts"]["resident_channels"]

    def on_start(self) -> None:
        super().on_start()
        self.token = next(_residents)


class ResidentReporter(Phone):
    """A resident raising a request from the app (pwa/js/views/resident.js: store.create, then sync)."""

    fixed_count = PLAN["counts"]["reporters"]
    wait_time = between(SETTINGS["ticket_every_min"], SETTINGS["ticket_every_max"])

    def on_start(self) -> None:
        super().on_start()
        self.token = next(_reporters)
        while self.pull_all("resident first sync") is None:
            time.sleep(2)
        observed["ready_times"].append(time.time())

    @task
    def report(self) -> None:
        category = random.choice(["repair", "repair", "cleaning", "water", "complaint", "other"])
        mutation = put("ticket", {"category": category, "description": "厨房水龙头漏水，请尽快派人维修"})
        raised.add(mutation["id"])  # before the request: the butler's poll may return before this answer does
        answer = self.sync("ticket raise", [mutation])
        if answer is not None:
            observed["tickets_raised"] += 1
            while answer is not None and answer.get("more"):
                answer = self.sync("ticket raise", [])


class Supervisor(HttpUser):
    """The supervisors' console in a desktop browser: a form login with its CSRF token, then the dashboard."""

    fixed_count = PLAN["counts"]["supervisors"]
    wait_time = between(SETTINGS["dashboard_every_min"], SETTINGS["dashboard_every_max"])
    host = HOSTS[0]

    def on_start(self) -> None:
        resend_once_on_a_dropped_connection(self.client)
        self.turn = random.randrange(len(HOSTS))
        account = next(_supervisors)
        form = self.client.get(self.url("/console/login"), name="console login form")
        found = CSRF.search(form.text)
        with self.client.post(self.url("/console/login"), name="console login", allow_redirects=False,
                              catch_response=True,
                              data={"csrf_token": found.group(1) if found else "", "username": account["username"],
                                    "password": account["password"]}) as response:
            if response.status_code != 302:
                response.failure(f"login answered {response.status_code}")

    def url(self, path: str) -> str:
        self.turn += 1
        return HOSTS[self.turn % len(HOSTS)] + path

    @task
    def dashboard(self) -> None:
        with self.client.get(self.url("/console/"), name="dashboard", allow_redirects=False, catch_response=True,
                             timeout=60) as response:
            if response.status_code != 200:
                response.failure(f"HTTP {response.status_code}")


# ---- bounds and the report ------------------------------------------------------------------------

@events.request.add_listener
def _count(request_type, name, response_time, response_length, exception=None, url=None, **kwargs) -> None:
    if exception is None:
        observed["latencies"].setdefault(name, []).append([round(time.time(), 3), round(response_time, 1)])
    if url is None:  # our own timings (poke latency, a whole first sync), not requests
        return
    observed["requests"] += 1
    server = next((h for h in HOSTS if url.startswith(h)), None)
    if server is not None:
        observed["per_server"][server]["requests"] += 1
    limit = SETTINGS["max_requests"]
    if observed["requests"] >= limit and not observed["stopped_by_request_limit"]:
        observed["stopped_by_request_limit"] = True
        runner = _environment.get("runner")
        if runner is not None:
            import gevent

            gevent.spawn_later(0, runner.quit)


_environment: dict = {}


@events.init.add_listener
def _init(environment, **kwargs) -> None:
    _environment["runner"] = environment.runner


@events.test_start.add_listener
def _start(environment, **kwargs) -> None:
    clock["start"] = time.time()


@events.test_stop.add_listener
def _stop(environment, **kwargs) -> None:
    clock["stop"] = time.time()


@events.quitting.add_listener
def _write_report(environment, **kwargs) -> None:
    stop = clock["stop"] or time.time()
    report = {**observed, "tickets_raised_ids": len(raised), "seconds": round(stop - (clock["start"] or stop), 3),
              "stopped_at": stop}
    with open(PLAN["report"], "w", encoding="utf-8") as f:
        json.dump(report, f)
