"""A phone as the sync contract sees it (docs/sync-contract.md): the envelope it sends to POST
/api/v1/sync through the Flask test client, the mutations in it, and what it reads of the answer."""
from __future__ import annotations

import json
import uuid

from tests.factories import auth

PHONE_A = "aaaaaaaa-0000-4000-8000-000000000001"
PHONE_B = "bbbbbbbb-0000-4000-8000-000000000002"


class Phone:
    """A client of the contract: sends mutations, remembers its cursor."""

    def __init__(self, client, user, client_id=PHONE_A, language=None):
        self.client, self.headers, self.client_id, self.cursor = client, auth(user), client_id, None
        if language:
            self.headers["Accept-Language"] = language

    def sync(self, *mutations, cursor="keep", limit=None, raw=None):
        body = {"client_id": self.client_id, "schema": 1,
                "cursor": self.cursor if cursor == "keep" else cursor, "mutations": list(mutations)}
        if limit:
            body["limit"] = limit
        r = self.client.post("/api/v1/sync", data=raw if raw is not None else json.dumps(body),
                             headers={**self.headers, "Content-Type": "application/json"})
        if r.status_code == 200:
            self.cursor = r.get_json()["cursor"]
        return r

    def pull_all(self):
        """Pull pages until `more` is false; returns every change."""
        seen = []
        while True:
            body = self.sync().get_json()
            seen += body["changes"]
            if not body["more"]:
                return seen


def put(rtype, rid, fields, base=None, mid=None, at="2026-11-27T09:15:02+08:00"):
    return {"mid": mid or str(uuid.uuid4()), "type": rtype, "id": rid, "op": "put", "base": base,
            "fields": fields, "at": at}


def delete(rtype, rid, base):
    return {**put(rtype, rid, {}, base), "op": "delete"}


def results(response):
    assert response.status_code == 200, response.get_json()
    return response.get_json()["results"]


def ids(changes, op="put", rtype=None):
    return {c["id"] for c in changes if c["op"] == op and (rtype is None or c["type"] == rtype)}
