"""Two app servers on one PostgreSQL behave as one: real gunicorn processes (gunicorn.conf.py, as
`make run` starts them) on two ports, and phones that send each request to the next server, as a
round-robin load balancer would.

- Exactly once: a batch whose answer was lost is sent again to the other server; the answers are the
  same and no row is written twice.
- No miss: while phones push concurrently through both servers, another phone of the same butler
  pulls through both; at the end it holds every record of the grid in the database's latest state.
- Push delivery: a ticket raised through one server reaches the butler's long poll held on the other.
"""
from __future__ import annotations

import json
import threading
import uuid
from datetime import datetime, timedelta, timezone

import pytest
import requests
import sqlalchemy as sa

from bench.load import servers, world
from tests.support.app import TEST_DATA_KEY, base_config, copied_postgres_database
from tests.factories import complete_visit

pytestmark = pytest.mark.postgres
CHINA = timezone(timedelta(hours=8))
TIMEOUT = 30


@pytest.fixture
def two_servers(request, tmp_path):
    """A fresh database from the migrated template, a tiny world in it, and two gunicorns on it."""
    with copied_postgres_database(request, "guanjia_two") as url:
        from server import create_app

        app = create_app(base_config(tmp_path / "seed", url))
        seeded = world.seed(app, world.Shape(communities=1, grids_per_community=1, households_per_grid=12,
                                             people_per_household=1, visits_per_household=1, residents=2))
        from server.extensions import db

        with app.app_context():
            db.engine.dispose()
        env = servers.app_env(url, tmp_path / "instance", "test-secret", TEST_DATA_KEY)
        with servers.running(2, env, tmp_path / "logs", worker=False) as running:
            engine = sa.create_engine(url, poolclass=sa.pool.NullPool)
            try:
                yield running.urls, seeded, engine
            finally:
                engine.dispose()


class Phone:
    """A plain HTTP client of the API that sends each request to the next server."""

    def __init__(self, urls: list[str], token: str, start: int = 0):
        self.urls, self.turn = urls, start
        self.http = requests.Session()
        self.http.headers["Authorization"] = f"Bearer {token}"
        self.client_id = str(uuid.uuid4())
        self.cursor: str | None = None
        self.records: dict[tuple[str, str], dict] = {}  # (type, id) -> the change as last pulled

    def next_url(self) -> str:
        self.turn += 1
        return self.urls[self.turn % len(self.urls)]

    def post_sync(self, body: bytes, url: str | None = None) -> dict:
        response = self.http.post(f"{url or self.next_url()}/api/v1/sync", data=body,
                                  headers={"Content-Type": "application/json"}, timeout=TIMEOUT)
        assert response.status_code == 200, response.text
        return response.json()

    def body(self, mutations: list[dict], limit: int = 1000) -> bytes:
        return json.dumps({"client_id": self.client_id, "schema": 1, "cursor": self.cursor, "limit": limit,
                           "mutations": mutations}).encode()

    def keep(self, answer: dict) -> None:
        for change in answer["changes"]:
            key = (change["type"], change["id"])
            if change["op"] == "put":
                self.records[key] = change
            else:
                self.records.pop(key, None)
        self.cursor = answer["cursor"]

    def pull_all(self, limit: int = 1000) -> None:
        while True:
            answer = self.post_sync(self.body([], limit))
            self.keep(answer)
            if not answer["more"]:
                return


def login(url: str, username: str) -> str:
    response = requests.post(f"{url}/api/v1/auth/login", json={"username": username, "password": world.PASSWORD},
                             timeout=TIMEOUT)
    assert response.status_code == 200, response.text
    return response.json()["token"]


def now() -> str:
    return datetime.now(CHINA).isoformat(timespec="milliseconds")


def visit(household_id: str) -> dict:
    return {"mid": str(uuid.uuid4()), "type": "visit", "id": str(uuid.uuid4()), "op": "put", "base": None, "at": now(),
            "fields": complete_visit({"household_id": household_id, "visited_at": now(), "kind": "routine",
                                     "checklist": {"门窗": {"ok": True, "note": ""}}, "notes": "入户走访"})}


def household_note(household_id: str, text: str, base: int = 1) -> dict:
    return {"mid": str(uuid.uuid4()), "type": "household", "id": household_id, "op": "put", "base": base,
            "at": now(), "fields": {"notes": text}}


def grid_state(engine: sa.Engine) -> dict[tuple[str, str], int]:
    """(type, id) -> version of every live household, person and visit: the butler's whole scope here."""
    with engine.connect() as conn:
        rows = conn.execute(sa.text(
            "SELECT 'household', id, version FROM household WHERE NOT deleted "
            "UNION ALL SELECT 'person', id, version FROM person WHERE NOT deleted "
            "UNION ALL SELECT 'visit', id, version FROM visit WHERE NOT deleted")).all()
    return {(t, i): v for t, i, v in rows}


def test_a_lost_answer_resent_to_the_other_server_is_applied_once(two_servers):
    urls, seeded, engine = two_servers
    phone = Phone(urls, login(urls[0], seeded.butlers[0]))
    phone.pull_all()
    homes = sorted(i for t, i in phone.records if t == "household")
    batch = [visit(homes[0]), visit(homes[1]), household_note(homes[2], "钥匙在物业")]
    body = phone.body(batch)
    first = phone.post_sync(body, urls[0])  # its answer is "lost": the phone never stored it
    again = phone.post_sync(body, urls[1])  # the same batch, the same mids, through the other server
    assert [(r["mid"], r["status"], r.get("version")) for r in again["results"]] == \
        [(r["mid"], r["status"], r.get("version")) for r in first["results"]]
    assert all(r["status"] == "applied" for r in first["results"])
    with engine.connect() as conn:
        for m in batch[:2]:
            assert conn.execute(sa.text("SELECT count(*) FROM visit WHERE id = :id"), {"id": m["id"]}).scalar_one() == 1
        assert conn.execute(sa.text("SELECT version, notes FROM household WHERE id = :id"),
                            {"id": homes[2]}).one() == (2, "钥匙在物业")


def test_a_phone_pulling_through_both_servers_misses_nothing_while_others_push(two_servers):
    urls, seeded, engine = two_servers
    butler = seeded.butlers[0]
    reader = Phone(urls, login(urls[1], butler), start=1)
    reader.pull_all(limit=5)  # small pages: the paging itself alternates between the servers
    homes = sorted(i for t, i in reader.records if t == "household")
    writers = [Phone(urls, login(urls[i % 2], butler), start=i) for i in range(3)]
    errors: list[BaseException] = []

    def push(phone: Phone, mine: list[str]) -> None:
        # Each writer edits its own households (no conflicts to settle), with the base it last saw.
        versions = dict.fromkeys(mine, 1)
        try:
            for round_ in range(8):
                home = mine[round_ % len(mine)]
                mutations = [visit(homes[round_ % len(homes)]),
                             household_note(home, f"第{round_}次更新 {uuid.uuid4().hex[:6]}", versions[home])]
                answer = phone.post_sync(phone.body(mutations))
                assert all(r["status"] in ("applied", "merged") for r in answer["results"]), answer["results"]
                versions[home] = answer["results"][1]["version"]
        except BaseException as error:  # noqa: BLE001 - reported below, in the test's thread
            errors.append(error)

    threads = [threading.Thread(target=push, args=(w, homes[i::3]), daemon=True) for i, w in enumerate(writers)]
    for t in threads:
        t.start()
    while any(t.is_alive() for t in threads):
        reader.pull_all(limit=5)  # pulling while the others commit, through both servers
    for t in threads:
        t.join(TIMEOUT)
        assert not t.is_alive()
    assert not errors, errors
    reader.pull_all(limit=5)
    pulled = {key: change["version"] for key, change in reader.records.items()
              if key[0] in ("household", "person", "visit")}
    assert pulled == grid_state(engine)
    with engine.connect() as conn:
        notes = dict(conn.execute(sa.text("SELECT id, notes FROM household")).all())
    assert {i: reader.records[("household", i)]["data"]["notes"] for i in homes} == {i: notes[i] for i in homes}
    assert sum(1 for t, _ in pulled if t == "visit") == 12 + 3 * 8  # the seeded ones and every pushed one, once


def test_a_ticket_raised_through_one_server_reaches_a_long_poll_held_on_the_other(two_servers):
    urls, seeded, engine = two_servers
    token = login(urls[1], seeded.butlers[0])
    http = requests.Session()
    http.headers["Authorization"] = f"Bearer {token}"
    cursor = http.get(f"{urls[1]}/api/v1/notifications", timeout=TIMEOUT).json()["cursor"]
    answers: list = []

    def hold() -> None:
        answers.append(http.get(f"{urls[1]}/api/v1/notifications", params={"after": cursor, "wait": 20},
                                timeout=TIMEOUT))

    poll = threading.Thread(target=hold, daemon=True)
    poll.start()
    poll.join(1.0)
    assert poll.is_alive(), "the long poll answered before anything happened"  # it is held on urls[1]
    resident = Phone(urls, seeded.residents[0])
    ticket = {"mid": str(uuid.uuid4()), "type": "ticket", "id": str(uuid.uuid4()), "op": "put", "base": None,
              "at": now(), "fields": {"category": "repair", "description": "厨房水龙头漏水"}}
    answer = resident.post_sync(resident.body([ticket]), urls[0])
    assert answer["results"][0]["status"] == "applied"
    poll.join(TIMEOUT)
    assert not poll.is_alive() and answers, "the long poll did not return"
    response = answers[0]
    assert response.status_code == 200
    assert [(e["event"], e["id"]) for e in response.json()["events"]] == [("ticket.created", ticket["id"])]
