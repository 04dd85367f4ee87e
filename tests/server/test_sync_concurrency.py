"""No missed change: many writers commit through the API while a reader pulls all the while."""
from __future__ import annotations

import json
import threading
import uuid

import requests as http

from tests.factories import complete_visit, make_community, make_grid, make_household, make_user, token_for

WRITERS = 6
BATCHES = 8
PER_BATCH = 4


def sync(base_url, token, client_id, cursor=None, mutations=()):
    response = http.post(f"{base_url}/api/v1/sync", timeout=60,
                         headers={"Authorization": f"Bearer {token}", "Content-Type": "application/json"},
                         data=json.dumps({"client_id": client_id, "schema": 1, "cursor": cursor,
                                          "mutations": list(mutations)}))
    assert response.status_code == 200, response.text
    return response.json()


def test_a_reader_pulling_during_concurrent_writes_misses_nothing(live_server, session):
    community = make_community()
    butlers = [make_user("butler", community_id=community.id) for _ in range(WRITERS)]
    household_ids = [make_household(community, make_grid(community, b)).id for b in butlers]
    supervisor = make_user("supervisor", community_id=community.id)
    tokens = [token_for(b) for b in butlers]
    reader_token = token_for(supervisor)
    written: list[str] = []
    errors: list[BaseException] = []
    done = threading.Event()

    def write(i: int) -> None:
        try:
            client_id = str(uuid.uuid4())
            for _ in range(BATCHES):
                batch = [{"mid": str(uuid.uuid4()), "type": "visit", "id": str(uuid.uuid4()), "op": "put",
                          "base": None, "at": "2026-11-27T09:15:02+08:00",
                          "fields": complete_visit({"household_id": household_ids[i],
                                                    "visited_at": "2026-11-27T09:15:02+08:00"})}
                         for _ in range(PER_BATCH)]
                answer = sync(live_server, tokens[i], client_id, mutations=batch)
                assert {r["status"] for r in answer["results"]} == {"applied"}
                written.extend(m["id"] for m in batch)
        except BaseException as exc:  # reported by the main thread
            errors.append(exc)

    seen: set[str] = set()
    cursor = None
    threads = [threading.Thread(target=write, args=(i,)) for i in range(WRITERS)]
    for t in threads:
        t.start()
    pulls_during_writes = 0
    while any(t.is_alive() for t in threads) or not done.is_set():
        if not any(t.is_alive() for t in threads):
            done.set()  # one last round of pulls after every writer has finished
        while True:
            pulls_during_writes += not done.is_set()
            answer = sync(live_server, reader_token, "cccccccc-0000-4000-8000-000000000003", cursor)
            seen.update(c["id"] for c in answer["changes"] if c["type"] == "visit")
            cursor = answer["cursor"]
            if not answer["more"]:
                break
    for t in threads:
        t.join()
    assert not errors, errors
    assert len(written) == WRITERS * BATCHES * PER_BATCH
    assert pulls_during_writes >= 1  # the reader really pulled while writes were going on
    assert set(written) <= seen
