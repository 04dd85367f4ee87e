"""Schemathesis against every operation the API reference describes, as a butler, a resident and a
supervisor, each logged in through the API on a small community made by tests/factories.py.

Whatever it sends, valid or not: never a server error, every answer's status, content type and body
as documented, invalid input refused, and every 4xx in the one error shape. Bounded: few examples
per operation, no time limit per example, generation only (no shrinking), derandomized so that a
failure is the same on every run.
"""
from __future__ import annotations

import os

import pytest
import schemathesis
import sqlalchemy as sa
from hypothesis import HealthCheck, Phase, assume, given, settings
from hypothesis.errors import Unsatisfiable
from schemathesis import GenerationMode
from schemathesis.checks import (content_type_conformance, negative_data_rejection, not_a_server_error,
                                 response_schema_conformance, status_code_conformance)

from server.errors import ErrorSchema
from server.extensions import db
from tests.factories import (PASSWORD, make_community, make_grid, make_household, make_order, make_person,
                             make_ticket, make_touchpoint, make_user, make_visit)

pytestmark = pytest.mark.fuzz

# Per operation, role and pass: ~70 operations × 3 roles stay within a few minutes on 2 cores.
# GUANJIA_FUZZ_EXAMPLES=200 for a deeper run by hand.
EXAMPLES = int(os.environ.get("GUANJIA_FUZZ_EXAMPLES", "12"))
# GUANJIA_FUZZ_ONLY="uploads,attachments": only the operations whose path has one of these words
# (a quick run by hand for the operations one has just changed; `make test` runs them all).
ONLY = [word for word in os.environ.get("GUANJIA_FUZZ_ONLY", "").split(",") if word]


@schemathesis.check
def error_shape(ctx, response, case):
    """A 4xx answer is the one JSON error shape (server/errors.py), whatever the operation documents."""
    if 400 <= response.status_code < 500:
        assert response.headers.get("content-type", [""])[0].startswith("application/json"), "not JSON"
        problems = ErrorSchema().validate(response.json())
        assert not problems, f"not the error shape: {problems}"


# A photo's upload pieces are raw bytes under tus's media type (server/attachments/api.py).
schemathesis.serializer.alias("application/offset+octet-stream", "application/octet-stream")


# negative_data_rejection: what breaks the description is refused (4xx), never taken in.
CHECKS = [not_a_server_error, status_code_conformance, content_type_conformance, response_schema_conformance,
          negative_data_rejection, error_shape]


# The public operations: schemathesis makes no invalid request for them (their only way to break
# the description would be the token they do not need; login's body it does not negate).
NO_INVALID_INPUT = {"POST /auth/login", "GET /docs", "GET /docs/{name}", "GET /health", "GET /push/key",
                    "GET /join/communities", "GET /join/communities/{community_id}"}


def _community():
    """A small community in the demo's image: a butler's grid with households, people and their
    records, a resident in one of them, their supervisor."""
    community = make_community(name="翠湖花园")
    butler = make_user("butler", community_id=community.id)
    supervisor = make_user("supervisor", community_id=community.id)
    grid = make_grid(community, butler)
    households = [make_household(community, grid) for _ in range(3)]
    resident = make_user("resident", community_id=community.id, household_id=households[0].id)
    for household in households:
        make_person(household)
        make_visit(household, butler)
        make_touchpoint(household, butler)
        make_ticket(household)
        make_order(household)
    return {"butler": butler, "resident": resident, "supervisor": supervisor}


def _login(client, username: str) -> str:
    answer = client.post("/api/v1/auth/login", json={"username": username, "password": PASSWORD,
                                                       "device_name": "fuzz"})
    assert answer.status_code == 200, answer.get_json()
    return answer.get_json()["token"]


@pytest.fixture(params=["butler", "resident", "supervisor"])
def role(request):
    return request.param


@pytest.fixture
def fuzzed(app, role, vapid_key):
    """The app on a fresh database with the community, and the role's token from a real login; it
    holds a push key, as `make run` makes one (without, GET /push/key is 503 by design)."""
    app.config["LONG_POLL_SECONDS"] = 0.05  # the long poll answers at once: the fuzzer waits for nobody
    # Each logout case logs in afresh (its own token to revoke): more logins than a person makes, which
    # the login limits would refuse (tests/server/test_login_throttle.py is where they are tested).
    app.config.update(LOGIN_MAX_PER_USER=10_000, LOGIN_MAX_PER_ADDRESS=10_000, MAX_DEVICES_PER_USER=10_000)
    users = _community()
    client = app.test_client()
    username = users[role].username
    return {"app": app, "client": client, "username": username, "role": role, "token": _login(client, username)}


def _real_ids() -> dict[str, str]:
    """One live record of each collection, by plural: fuzzed bodies also land on real records."""
    from server.resources.registry import registry

    found = {}
    for res in registry().values():
        record = db.session.scalars(sa.select(res.model).where(res.model.deleted.is_(False)).limit(1)).first()
        if record is not None:
            found[res.plural] = record.id
    db.session.rollback()
    return found


def _sent_as_generated(case) -> bool:
    """Whether the request goes on the wire as generated: a query parameter whose value is an empty
    list or None is not sent at all, so a case that breaks the description only through one (an
    unknown parameter `[]`) would be sent as a valid request, and its acceptance is no finding."""
    return not any(value is None or value == [] for value in (case.query or {}).values())


def test_every_operation_holds_to_its_description(fuzzed):
    schema = schemathesis.openapi.from_wsgi("/api/v1/openapi.json", fuzzed["app"])
    real = _real_ids()
    failures, examples, no_negative = [], 0, []
    for result in schema.get_all_operations():
        operation = result.ok()
        if ONLY and not any(word in operation.path for word in ONLY):
            continue
        passes = [(mode, None) for mode in (GenerationMode.POSITIVE, GenerationMode.NEGATIVE)]
        plural = operation.path.split("/")[1]
        if "{record_id}" in operation.path and plural in real:
            passes.append((GenerationMode.POSITIVE, {"record_id": real[plural]}))
        for mode, path_parameters in passes:
            strategy = operation.as_strategy(generation_mode=mode, path_parameters=path_parameters)

            @given(case=strategy)
            @settings(max_examples=EXAMPLES, deadline=None, derandomize=True, database=None,
                      suppress_health_check=list(HealthCheck), phases=[Phase.explicit, Phase.generate])
            def run(case):
                nonlocal examples
                assume(_sent_as_generated(case))
                examples += 1  # requests sent
                token = fuzzed["token"]
                if case.method == "POST" and case.path == "/auth/logout":
                    token = _login(fuzzed["client"], fuzzed["username"])  # its own token to revoke
                try:
                    # identity: the in-process transport does not undo a compressed sync answer
                    # (compression has its own tests).
                    headers = {"Authorization": f"Bearer {token}", "Accept-Encoding": "identity"}
                    case.call_and_validate(headers=headers, checks=CHECKS)
                finally:
                    db.session.rollback()

            try:
                run()
            except Unsatisfiable:
                # Schemathesis can make no request that breaks this operation's description (no
                # parameters, any text is a valid name, or a body it does not negate): the
                # positive pass covers it, and the list is held below.
                assert mode is GenerationMode.NEGATIVE, operation.label
                no_negative.append(operation.label)
            except (Exception, BaseExceptionGroup) as exc:  # noqa: BLE001 - all failures reported together
                failures.append(f"{operation.label} ({mode.value}{', a real record' if path_parameters else ''}):"
                                f"\n{exc}")
    print(f"{fuzzed['role']}: {examples} requests; no invalid input could be made for {no_negative}")
    assert not failures, "\n\n".join(failures)
    assert set(no_negative) <= NO_INVALID_INPUT
    assert examples >= (1 if ONLY else 100) * EXAMPLES  # every operation was really sent requests
