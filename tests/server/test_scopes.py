"""No role reads or writes outside its scope: every record type, every role.

All tests share one small world:

    community A                                  community B
      grid g1 (butler b1): household h1            grid gB (butler bB): household hB
        resident r1 lives in h1                    supervisor sB
      grid g2 (butler b2): household h2
      supervisor sA                              admin (everything)

Every household has one person, visit, touchpoint, ticket and order, labelled "<type>:<household>"
(the visit and touchpoint by the grid's butler; the ticket resolved, with a back-office rating).
The catalogue holds the five products the migrations create plus one inactive product.
Tests speak in these labels; the world turns them into ids and back.
"""
from __future__ import annotations

import uuid
from datetime import datetime, timezone

import pytest
import sqlalchemy as sa

from server.community.models import Household
from server.extensions import db
from server.products.models import Product
from server.resources.registry import registry
from tests.factories import (auth, complete_visit, make_community, make_grid, make_household, make_order, make_person,
                             make_ticket, make_touchpoint, make_user, make_visit)

TYPES = ("community", "grid", "household", "person", "visit", "touchpoint", "ticket", "product", "order")
PLURALS = {"community": "communities", "grid": "grids", "household": "households", "person": "persons",
           "visit": "visits", "touchpoint": "touchpoints", "ticket": "tickets", "product": "products",
           "order": "orders"}
HOUSEHOLD_CHILDREN = ("person", "visit", "touchpoint", "ticket", "order")
ACTIVE_PRODUCTS = {"water", "move_in", "cleaning", "repair", "custody"}
INACTIVE_PRODUCT = "pest_control"

# household -> (its community, its grid, the grid's butler)
HOUSEHOLDS = {"h1": ("A", "g1", "b1"), "h2": ("A", "g2", "b2"), "hB": ("B", "gB", "bB")}

# ---- who may read what ------------------------------------------------------------------------

USERS = ("b1", "b2", "bB", "r1", "sA", "sB", "admin")

#        communities    grids                 households
SCOPE = {
    "b1": ({"A"}, {"g1"}, {"h1"}),
    "b2": ({"A"}, {"g2"}, {"h2"}),
    "bB": ({"B"}, {"gB"}, {"hB"}),
    "r1": ({"A"}, set(), {"h1"}),
    "sA": ({"A"}, {"g1", "g2"}, {"h1", "h2"}),
    "sB": ({"B"}, {"gB"}, {"hB"}),
    "admin": ({"A", "B"}, {"g1", "g2", "gB"}, {"h1", "h2", "hB"}),
}


def readable(who: str, rtype: str) -> set[str]:
    """The labels of `rtype` that `who` may read: the SCOPE table plus the rules for the rest."""
    communities, grids, households = SCOPE[who]
    if rtype == "community":
        return communities
    if rtype == "grid":
        return grids
    if rtype == "household":
        return households
    if rtype == "product":
        return ACTIVE_PRODUCTS | ({INACTIVE_PRODUCT} if who == "admin" else set())
    if who == "r1" and rtype in ("person", "visit", "touchpoint"):
        return set()  # a resident never sees the customer file kept about them
    return {f"{rtype}:{h}" for h in households}


# ---- who may write what (each record type's declared rights), for one user of each role ---------------

ROLES = ("b1", "r1", "sA", "admin")  # each acts on h1 and its community A, inside their scope

CREATE_RIGHTS = {
    "community": {"admin"},
    "grid": {"sA", "admin"},
    "household": {"sA", "admin"},
    "person": {"b1", "sA", "admin"},
    "visit": {"b1", "admin"},
    "touchpoint": {"b1", "admin"},
    "ticket": {"b1", "r1", "sA", "admin"},
    "product": {"admin"},
    "order": {"b1", "r1", "sA", "admin"},
}
UPDATE_RIGHTS = {
    "community": {"sA", "admin"},
    "grid": {"sA", "admin"},
    "household": {"b1", "sA", "admin"},
    "person": {"b1", "sA", "admin"},
    "visit": {"b1", "sA", "admin"},
    "touchpoint": {"b1", "sA", "admin"},
    "ticket": {"b1", "r1", "sA", "admin"},
    "product": {"admin"},
    "order": {"b1", "r1", "sA", "admin"},
}
DELETE_RIGHTS = {
    "community": {"admin"},
    "grid": {"sA", "admin"},
    "household": {"sA", "admin"},
    "person": {"b1", "sA", "admin"},
    "visit": {"b1", "sA", "admin"},
    "touchpoint": {"b1", "sA", "admin"},
    "ticket": {"admin"},
    "product": {"admin"},
    "order": {"sA", "admin"},
}

# The record of each type that every role in ROLES can see (except where a resident sees none).
IN_SCOPE = {"community": "A", "grid": "g1", "household": "h1", "product": "water",
            **{t: f"{t}:h1" for t in HOUSEHOLD_CHILDREN}}

# A change each type accepts, from a role allowed to update it.
CHANGES = {
    "community": {"name": "翠湖花园二期"},
    "grid": {"name": "一号网格"},
    "household": {"notes": "已换新门锁"},
    "person": {"notes": "喜欢早上联系"},
    "visit": {"notes": "复访：水压正常"},
    "touchpoint": {"summary": "电话确认送水时间"},
    "ticket": {"description": "厨房水龙头漏水"},
    "product": {"price": 20.0},
    "order": {"note": "放在门口"},
}
# A resident changes tickets and orders only by rating and cancelling.
RESIDENT_CHANGES = {"ticket": {"rating": 5}, "order": {"status": "cancelled"}}


def change_for(who: str, rtype: str) -> dict:
    if who == "r1" and rtype in RESIDENT_CHANGES:
        return RESIDENT_CHANGES[rtype]
    return CHANGES[rtype]


def by_rights(rights: dict[str, set[str]], *, allowed: bool, users=ROLES) -> list:
    """(who, type) pairs that the rights table allows, or refuses."""
    return [pytest.param(who, rtype, id=f"{who}-{rtype}")
            for rtype in TYPES for who in users if (who in rights[rtype]) is allowed]


# ---- the world --------------------------------------------------------------------------------

class World:
    """The records above, by label, and a client that calls the API as any of the users."""

    def __init__(self, client, ids: dict[str, str], types: dict[str, str], users: dict):
        self.client = client
        self.ids = ids  # label -> id
        self.types = types  # label -> record type
        self.users = users  # label -> User
        self._labels = {record_id: label for label, record_id in ids.items()}
        self._headers: dict[str, dict] = {}

    def id(self, label: str) -> str:
        """The id of a labelled record; anything else (a fresh id) is returned as it is."""
        return self.ids.get(label, label)

    def label(self, record_id: str) -> str:
        return self._labels.get(record_id, record_id)

    def labels(self, rtype: str) -> set[str]:
        return {label for label, t in self.types.items() if t == rtype}

    def headers(self, who: str) -> dict:
        if who not in self._headers:
            self._headers[who] = auth(self.users[who])
        return self._headers[who]

    def url(self, rtype: str, label: str | None = None) -> str:
        base = f"/api/v1/{PLURALS[rtype]}"
        return base if label is None else f"{base}/{self.id(label)}"

    # -- the API, as one user

    def get(self, who: str, rtype: str, label: str):
        return self.client.get(self.url(rtype, label), headers=self.headers(who))

    def list(self, who: str, rtype: str, **filters: str) -> list[dict]:
        query = {name: self.id(value) for name, value in filters.items()}
        response = self.client.get(self.url(rtype), query_string=query, headers=self.headers(who))
        assert response.status_code == 200, response.get_json()
        body = response.get_json()
        assert body["next"] is None
        return body["items"]

    def listed(self, who: str, rtype: str, **filters: str) -> set[str]:
        """The labels of the records a list returns."""
        key = "code" if rtype == "product" else "id"
        return {self.label(item[key]) for item in self.list(who, rtype, **filters)}

    def post(self, who: str, rtype: str, body: dict):
        return self.client.post(self.url(rtype), json=body, headers=self.headers(who))

    def patch(self, who: str, rtype: str, label: str, body: dict):
        return self.client.patch(self.url(rtype, label), json=body, headers=self.headers(who))

    def delete(self, who: str, rtype: str, label: str):
        return self.client.delete(self.url(rtype, label), headers=self.headers(who))

    # -- the database, read on a connection of its own: only what was really committed counts

    def stored(self, rtype: str, label: str) -> dict | None:
        table = registry()[rtype].model.__table__
        key = table.primary_key.columns[0]
        with db.engine.connect() as conn:
            row = conn.execute(sa.select(table).where(key == self.id(label))).mappings().first()
        return dict(row) if row else None

    def count(self, rtype: str) -> int:
        table = registry()[rtype].model.__table__
        with db.engine.connect() as conn:
            return conn.execute(sa.select(sa.func.count()).select_from(table)).scalar_one()

    def new_record(self, rtype: str, *, where: str = "h1") -> tuple[dict, str]:
        """A valid body for a new `rtype` in household `where` (or its community), and its id."""
        community, grid, _ = HOUSEHOLDS[where]
        household = self.id(where)
        bodies = {
            "community": {"name": "滨湖新城", "city": "苏州"},
            "grid": {"community_id": self.id(community), "name": "新网格"},
            "household": {"community_id": self.id(community), "grid_id": self.id(grid),
                          "building": "9栋", "unit": "2单元", "room": "902"},
            "person": {"household_id": household, "name": "李雷", "relation": "family"},
            "visit": complete_visit({"household_id": household, "butler_id": self.id("b1"),
                                     "visited_at": "2026-11-20T02:00:00+00:00", "kind": "routine", "notes": "新住户"}),
            "touchpoint": {"household_id": household, "butler_id": self.id("b1"),
                           "at": "2026-11-20T03:00:00+00:00", "channel": "phone", "summary": "电话回访"},
            "ticket": {"household_id": household, "category": "water", "description": "送两桶水"},
            "product": {"name": "绿化养护", "category": "house", "price": 120, "unit": "次"},
            "order": {"household_id": household, "product_code": "cleaning", "quantity": 1},
        }
        body = bodies[rtype]
        if rtype == "product":
            body["code"] = record_id = "greening"
        else:
            body["id"] = record_id = str(uuid.uuid4())
        return body, record_id


@pytest.fixture
def world(client, monkeypatch) -> World:
    # The builders commit each record; one commit for the whole world makes every test faster.
    monkeypatch.setattr(db.session, "commit", db.session.flush)
    A, B = make_community(name="翠湖花园"), make_community(name="滨江花园")
    users = {
        "b1": make_user("butler", community_id=A.id),
        "b2": make_user("butler", community_id=A.id),
        "bB": make_user("butler", community_id=B.id),
        "sA": make_user("supervisor", community_id=A.id),
        "sB": make_user("supervisor", community_id=B.id),
        "admin": make_user("admin"),
    }
    communities = {"A": A, "B": B}
    grids = {"g1": make_grid(A, users["b1"]), "g2": make_grid(A, users["b2"]),
             "gB": make_grid(B, users["bB"])}
    households = {label: make_household(communities[c], grids[g]) for label, (c, g, _) in HOUSEHOLDS.items()}
    users["r1"] = make_user("resident", community_id=A.id, household_id=households["h1"].id)

    ids: dict[str, str] = {}
    types: dict[str, str] = {}

    def keep(label: str, rtype: str, record_id: str) -> None:
        ids[label], types[label] = record_id, rtype

    for label, user in users.items():
        ids[label] = user.id
    for label, community in communities.items():
        keep(label, "community", community.id)
    for label, grid in grids.items():
        keep(label, "grid", grid.id)
    for label, household in households.items():
        keep(label, "household", household.id)
        butler = users[HOUSEHOLDS[label][2]]
        keep(f"person:{label}", "person", make_person(household).id)
        keep(f"visit:{label}", "visit", make_visit(household, butler).id)
        keep(f"touchpoint:{label}", "touchpoint", make_touchpoint(household, butler).id)
        ticket = make_ticket(household, status="resolved", assignee_id=butler.id, backoffice_rating=4,
                             resolved_at=datetime(2026, 11, 3, 2, tzinfo=timezone.utc))
        keep(f"ticket:{label}", "ticket", ticket.id)
        keep(f"order:{label}", "order", make_order(household).id)

    db.session.add(Product(id=INACTIVE_PRODUCT, name="消杀", name_en="Pest control", category="house",
                           price=80, unit="次", active=False))
    monkeypatch.undo()
    db.session.commit()
    for code in ACTIVE_PRODUCTS | {INACTIVE_PRODUCT}:
        keep(code, "product", code)
    return World(client, ids, types, users)


# ---- small assertions -------------------------------------------------------------------------

def field_errors(response) -> set[tuple[str, str]]:
    return {(e["field"], e["code"]) for e in response.get_json()["details"].get("errors", [])}


def assert_forbidden(response, *errors: tuple[str, str]) -> None:
    """403 in the API's error shape; with `errors`, exactly these (field, code) problems."""
    assert response.status_code == 403, response.get_json()
    body = response.get_json()
    assert body["error"] == "forbidden"
    assert set(body) == {"error", "message", "details"}
    if errors:
        assert field_errors(response) == set(errors)


# ---- reading ----------------------------------------------------------------------------------

def test_the_world_holds_what_the_tables_assume(world):
    """A guard for the tables below: every type has records both inside and outside b1's scope."""
    for rtype in TYPES:
        assert readable("b1", rtype) <= world.labels(rtype), rtype
        assert world.labels(rtype) - readable("b1", rtype), rtype
    assert world.labels("household") == {"h1", "h2", "hB"}
    assert world.labels("product") == ACTIVE_PRODUCTS | {INACTIVE_PRODUCT}


@pytest.mark.parametrize("rtype", TYPES)
@pytest.mark.parametrize("who", USERS)
def test_list_returns_exactly_the_records_in_scope(world, who, rtype):
    assert world.listed(who, rtype) == readable(who, rtype)


@pytest.mark.parametrize("rtype", TYPES)
@pytest.mark.parametrize("who", USERS)
def test_reading_one_record_is_forbidden_outside_scope_and_works_inside(world, who, rtype):
    key = "code" if rtype == "product" else "id"
    for label in sorted(world.labels(rtype) - readable(who, rtype)):
        assert_forbidden(world.get(who, rtype, label))
    for label in sorted(readable(who, rtype)):
        response = world.get(who, rtype, label)
        assert response.status_code == 200, (label, response.get_json())
        assert response.get_json()[key] == world.id(label)


@pytest.mark.parametrize("who, rtype, filters, expected", [
    pytest.param("b1", "household", {"grid_id": "g2"}, set(), id="butler-other-grid"),
    pytest.param("b1", "household", {"grid_id": "g1"}, {"h1"}, id="butler-own-grid"),
    pytest.param("b1", "grid", {"butler_id": "b2"}, set(), id="butler-other-butlers-grids"),
    pytest.param("b1", "person", {"household_id": "h2"}, set(), id="butler-other-household"),
    pytest.param("b1", "visit", {"butler_id": "b2"}, set(), id="butler-other-butlers-visits"),
    pytest.param("r1", "ticket", {"household_id": "h2"}, set(), id="resident-neighbours-tickets"),
    pytest.param("r1", "order", {"household_id": "h2"}, set(), id="resident-neighbours-orders"),
    pytest.param("sA", "household", {"community_id": "B"}, set(), id="supervisor-other-community"),
    pytest.param("sA", "ticket", {"household_id": "hB"}, set(), id="supervisor-other-communitys-ticket"),
    pytest.param("sA", "household", {"community_id": "A"}, {"h1", "h2"}, id="supervisor-own-community"),
])
def test_a_list_filter_never_widens_the_scope(world, who, rtype, filters, expected):
    assert world.listed(who, rtype, **filters) == expected


def test_butler_sees_a_ticket_assigned_to_them_outside_their_grid(world):
    household = db.session.get(Household, world.id("h2"))
    ticket = make_ticket(household, status="dispatched", assignee_id=world.id("b1"))
    assert world.listed("b1", "ticket") == {"ticket:h1", ticket.id}
    assert world.get("b1", "ticket", ticket.id).status_code == 200
    assert_forbidden(world.get("b1", "household", "h2"))


# ---- what residents never see -----------------------------------------------------------------

def test_resident_does_not_see_the_households_notes_or_tags(world):
    household = world.get("r1", "household", "h1").get_json()
    assert household["room"] == world.stored("household", "h1")["room"]
    assert "notes" not in household and "tags" not in household
    [listed] = world.list("r1", "household")
    assert "notes" not in listed and "tags" not in listed


def test_butler_does_see_the_households_notes_and_tags(world):
    household = world.get("b1", "household", "h1").get_json()
    assert household["notes"] == "内部备注"
    assert household["tags"] == ["独居老人"]


def test_resident_does_not_see_the_back_office_rating_of_their_ticket(world):
    ticket = world.get("r1", "ticket", "ticket:h1").get_json()
    assert ticket["status"] == "resolved"
    assert "backoffice_rating" not in ticket
    [listed] = world.list("r1", "ticket")
    assert "backoffice_rating" not in listed


def test_butler_does_see_the_back_office_rating(world):
    assert world.get("b1", "ticket", "ticket:h1").get_json()["backoffice_rating"] == 4


def test_resident_does_not_see_the_back_office_rating_in_write_answers(world):
    rated = world.patch("r1", "ticket", "ticket:h1", {"rating": 5})
    assert rated.status_code == 200
    assert rated.get_json()["rating"] == 5 and "backoffice_rating" not in rated.get_json()
    body, _ = world.new_record("ticket")
    raised = world.post("r1", "ticket", body)
    assert raised.status_code == 201
    assert "backoffice_rating" not in raised.get_json()


@pytest.mark.parametrize("rtype", ["person", "visit", "touchpoint"])
def test_resident_never_sees_the_customer_file_of_their_own_household(world, rtype):
    assert world.list("r1", rtype) == []
    assert_forbidden(world.get("r1", rtype, f"{rtype}:h1"))


# ---- creating ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, rtype", by_rights(CREATE_RIGHTS, allowed=True))
def test_role_creates_records_inside_its_scope(world, who, rtype):
    body, record_id = world.new_record(rtype)
    response = world.post(who, rtype, body)
    assert response.status_code == 201, response.get_json()
    stored = world.stored(rtype, record_id)
    assert stored is not None and stored["version"] == 1 and stored["deleted"] is False
    assert world.get(who, rtype, record_id).status_code == 200


@pytest.mark.parametrize("who, rtype", by_rights(CREATE_RIGHTS, allowed=False))
def test_role_without_create_rights_is_refused_and_nothing_is_created(world, who, rtype):
    body, record_id = world.new_record(rtype)
    before = world.count(rtype)
    assert_forbidden(world.post(who, rtype, body))
    assert world.stored(rtype, record_id) is None
    assert world.count(rtype) == before


def _creates_outside_scope():
    outside = {"b1": ("h2", "hB"), "r1": ("h2", "hB"), "sA": ("hB",)}
    return [pytest.param(who, rtype, where, id=f"{who}-{rtype}-{where}")
            for who, wheres in outside.items() for rtype in TYPES for where in wheres
            if who in CREATE_RIGHTS[rtype] and rtype not in ("community", "product")]


@pytest.mark.parametrize("who, rtype, where", _creates_outside_scope())
def test_creating_a_record_outside_scope_is_forbidden_and_creates_nothing(world, who, rtype, where):
    body, record_id = world.new_record(rtype, where=where)
    before = world.count(rtype)
    response = world.post(who, rtype, body)
    scope_field = "community_id" if rtype in ("grid", "household") else "household_id"
    assert_forbidden(response, (scope_field, "out_of_scope"))
    assert world.stored(rtype, record_id) is None
    assert world.count(rtype) == before


@pytest.mark.parametrize("rtype", ["visit", "touchpoint"])
def test_butler_cannot_record_a_visit_or_touchpoint_as_another_butler(world, rtype):
    body, record_id = world.new_record(rtype)
    body["butler_id"] = world.id("b2")
    assert_forbidden(world.post("b1", rtype, body), ("butler_id", "out_of_scope"))
    assert world.stored(rtype, record_id) is None


def test_resident_cannot_raise_a_ticket_with_an_assignee(world):
    body, record_id = world.new_record("ticket")
    body["assignee_id"] = world.id("b1")
    assert_forbidden(world.post("r1", "ticket", body), ("assignee_id", "not_writable"))
    assert world.stored("ticket", record_id) is None


def test_resident_raises_a_ticket_for_their_own_household_by_default(world):
    body, record_id = world.new_record("ticket")
    del body["household_id"]
    assert world.post("r1", "ticket", body).status_code == 201
    assert world.stored("ticket", record_id)["household_id"] == world.id("h1")


# ---- updating ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, rtype", by_rights(UPDATE_RIGHTS, allowed=True))
def test_role_updates_records_inside_its_scope(world, who, rtype):
    label, change = IN_SCOPE[rtype], change_for(who, rtype)
    response = world.patch(who, rtype, label, {"version": 1, **change})
    assert response.status_code == 200, response.get_json()
    assert response.get_json()["version"] == 2
    stored = world.stored(rtype, label)
    assert stored["version"] == 2
    assert {name: stored[name] for name in change} == change


@pytest.mark.parametrize("who, rtype", by_rights(UPDATE_RIGHTS, allowed=False))
def test_role_without_update_rights_is_refused_and_nothing_changes(world, who, rtype):
    label, change = IN_SCOPE[rtype], change_for(who, rtype)
    before = world.stored(rtype, label)
    assert_forbidden(world.patch(who, rtype, label, change))
    assert world.stored(rtype, label) == before


@pytest.mark.parametrize("who, rtype", by_rights(UPDATE_RIGHTS, allowed=False))
def test_role_without_update_rights_cannot_touch_a_record_with_an_empty_change(world, who, rtype):
    # An empty PATCH still writes: it bumps the version, which phones then sync as a change.
    label = IN_SCOPE[rtype]
    before = world.stored(rtype, label)
    assert_forbidden(world.patch(who, rtype, label, {}))
    assert world.stored(rtype, label) == before


@pytest.mark.parametrize("who, rtype", by_rights(UPDATE_RIGHTS, allowed=True, users=("b1", "r1", "sA")))
def test_updating_a_record_outside_scope_is_forbidden_and_changes_nothing(world, who, rtype):
    outside = sorted(world.labels(rtype) - readable(who, rtype))
    assert outside
    for label in outside:
        before = world.stored(rtype, label)
        assert_forbidden(world.patch(who, rtype, label, change_for(who, rtype)))
        assert world.stored(rtype, label) == before, label


@pytest.mark.parametrize("who, rtype, label, field, value", [
    # a butler keeps the file of a household, but does not move it or rename its address
    pytest.param("b1", "household", "h1", "grid_id", "g2", id="butler-household-grid"),
    pytest.param("b1", "household", "h1", "community_id", "B", id="butler-household-community"),
    pytest.param("b1", "household", "h1", "room", "999", id="butler-household-room"),
    pytest.param("b1", "ticket", "ticket:h1", "household_id", "h2", id="butler-ticket-household"),
    pytest.param("b1", "ticket", "ticket:h1", "rating", 1, id="butler-ticket-residents-rating"),
    pytest.param("b1", "order", "order:h1", "household_id", "h2", id="butler-order-household"),
    pytest.param("b1", "order", "order:h1", "product_code", "custody", id="butler-order-product"),
    # a resident rates and cancels, and nothing else
    pytest.param("r1", "household", "h1", "notes", "我自己写的", id="resident-household-notes"),
    pytest.param("r1", "household", "h1", "tags", [], id="resident-household-tags"),
    pytest.param("r1", "household", "h1", "status", "vacant", id="resident-household-status"),
    pytest.param("r1", "ticket", "ticket:h1", "backoffice_rating", 1, id="resident-ticket-backoffice-rating"),
    pytest.param("r1", "ticket", "ticket:h1", "description", "改了描述", id="resident-ticket-description"),
    pytest.param("r1", "ticket", "ticket:h1", "assignee_id", "b2", id="resident-ticket-assignee"),
    pytest.param("r1", "ticket", "ticket:h1", "household_id", "h2", id="resident-ticket-household"),
    pytest.param("r1", "ticket", "ticket:h1", "resolution_note", "已修好", id="resident-ticket-resolution"),
    pytest.param("r1", "order", "order:h1", "quantity", 10, id="resident-order-quantity"),
    pytest.param("r1", "order", "order:h1", "household_id", "h2", id="resident-order-household"),
    # a supervisor corrects a visit, but does not change who made it or where
    pytest.param("sA", "visit", "visit:h1", "butler_id", "b2", id="supervisor-visit-butler"),
    pytest.param("sA", "visit", "visit:h1", "household_id", "h2", id="supervisor-visit-household"),
    pytest.param("sA", "touchpoint", "touchpoint:h1", "butler_id", "b2", id="supervisor-touchpoint-butler"),
    pytest.param("sA", "ticket", "ticket:h1", "backoffice_rating", 1, id="supervisor-ticket-backoffice-rating"),
    pytest.param("sA", "ticket", "ticket:h1", "rating", 1, id="supervisor-ticket-residents-rating"),
    pytest.param("sA", "grid", "g1", "community_id", "B", id="supervisor-grid-community"),
])
def test_role_cannot_write_a_field_outside_its_rights(world, who, rtype, label, field, value):
    before = world.stored(rtype, label)
    value = world.id(value) if isinstance(value, str) else value
    assert_forbidden(world.patch(who, rtype, label, {field: value}), (field, "not_writable"))
    assert world.stored(rtype, label) == before


@pytest.mark.parametrize("rtype", ["person", "visit", "touchpoint"])
def test_butler_cannot_move_a_record_to_a_household_outside_their_grid(world, rtype):
    label = f"{rtype}:h1"
    before = world.stored(rtype, label)
    response = world.patch("b1", rtype, label, {"household_id": world.id("h2")})
    assert_forbidden(response, ("household_id", "out_of_scope"))
    assert world.stored(rtype, label) == before


@pytest.mark.parametrize("rtype", ["visit", "touchpoint"])
def test_butler_cannot_hand_their_visit_or_touchpoint_to_another_butler(world, rtype):
    label = f"{rtype}:h1"
    before = world.stored(rtype, label)
    assert_forbidden(world.patch("b1", rtype, label, {"butler_id": world.id("b2")}),
                     ("butler_id", "out_of_scope"))
    assert world.stored(rtype, label) == before


@pytest.fixture
def covering_visits(world) -> dict[str, str]:
    """A visit and a touchpoint that b2 recorded in h1 while covering for b1."""
    household = db.session.get(Household, world.id("h1"))
    b2 = world.users["b2"]
    return {"visit": make_visit(household, b2).id, "touchpoint": make_touchpoint(household, b2).id}


@pytest.mark.parametrize("rtype", ["visit", "touchpoint"])
def test_butler_sees_but_cannot_edit_another_butlers_visit_in_their_grid(world, covering_visits, rtype):
    record_id = covering_visits[rtype]
    assert world.get("b1", rtype, record_id).status_code == 200
    before = world.stored(rtype, record_id)
    assert_forbidden(world.patch("b1", rtype, record_id, change_for("b1", rtype)),
                     ("butler_id", "out_of_scope"))
    assert world.stored(rtype, record_id) == before


@pytest.mark.parametrize("rtype", ["visit", "touchpoint"])
def test_butler_cannot_delete_another_butlers_visit_in_their_grid(world, covering_visits, rtype):
    record_id = covering_visits[rtype]
    before = world.stored(rtype, record_id)
    assert_forbidden(world.delete("b1", rtype, record_id), ("butler_id", "out_of_scope"))
    assert world.stored(rtype, record_id) == before


def test_supervisor_cannot_move_a_household_to_another_community(world):
    before = world.stored("household", "h1")
    response = world.patch("sA", "household", "h1", {"community_id": world.id("B"), "grid_id": world.id("gB")})
    assert_forbidden(response, ("community_id", "out_of_scope"))
    assert world.stored("household", "h1") == before


def test_supervisor_moves_a_household_between_their_own_grids(world):
    response = world.patch("sA", "household", "h1", {"grid_id": world.id("g2")})
    assert response.status_code == 200
    assert world.stored("household", "h1")["grid_id"] == world.id("g2")
    assert world.listed("b1", "household") == set()
    assert world.listed("b2", "household") == {"h1", "h2"}


def test_supervisor_cannot_give_a_grid_to_another_communitys_butler(world):
    before = world.stored("grid", "g1")
    response = world.patch("sA", "grid", "g1", {"butler_id": world.id("bB")})
    assert response.status_code == 422
    assert field_errors(response) == {("butler_id", "invalid")}
    assert world.stored("grid", "g1") == before
    assert world.listed("bB", "household") == {"hB"}


def test_supervisor_cannot_dispatch_a_ticket_to_another_communitys_butler(world):
    before = world.stored("ticket", "ticket:h1")
    response = world.patch("sA", "ticket", "ticket:h1", {"assignee_id": world.id("bB")})
    assert response.status_code == 422
    assert field_errors(response) == {("assignee_id", "invalid")}
    assert world.stored("ticket", "ticket:h1") == before
    assert world.listed("bB", "ticket") == {"ticket:hB"}


def test_supervisor_cannot_raise_a_ticket_for_another_communitys_butler(world):
    body, record_id = world.new_record("ticket")
    body["assignee_id"] = world.id("bB")
    response = world.post("sA", "ticket", body)
    assert response.status_code == 422
    assert field_errors(response) == {("assignee_id", "invalid")}
    assert world.stored("ticket", record_id) is None


def test_supervisor_dispatches_a_ticket_to_a_butler_of_their_community(world):
    response = world.patch("sA", "ticket", "ticket:h1", {"assignee_id": world.id("b2")})
    assert response.status_code == 200
    assert world.stored("ticket", "ticket:h1")["assignee_id"] == world.id("b2")
    assert world.listed("b2", "ticket") == {"ticket:h1", "ticket:h2"}


def test_resident_cancels_their_order_but_cannot_confirm_it(world):
    before = world.stored("order", "order:h1")
    assert_forbidden(world.patch("r1", "order", "order:h1", {"status": "confirmed"}),
                     ("status", "not_writable"))
    assert world.stored("order", "order:h1") == before
    assert world.patch("r1", "order", "order:h1", {"status": "cancelled"}).status_code == 200
    assert world.stored("order", "order:h1")["status"] == "cancelled"


@pytest.mark.parametrize("who", ["b1", "r1", "sA"])
def test_products_are_read_only_for_everyone_but_admins(world, who):
    before, count = world.stored("product", "water"), world.count("product")
    body, code = world.new_record("product")
    assert_forbidden(world.post(who, "product", body))
    assert_forbidden(world.patch(who, "product", "water", {"price": 1.0}), ("price", "not_writable"))
    assert_forbidden(world.delete(who, "product", "water"))
    assert world.stored("product", "water") == before
    assert world.stored("product", code) is None
    assert world.count("product") == count


def test_admin_maintains_the_catalogue(world):
    body, code = world.new_record("product")
    assert world.post("admin", "product", body).status_code == 201
    assert world.patch("admin", "product", code, {"active": False}).status_code == 200
    assert world.stored("product", code)["active"] is False
    assert code not in world.listed("b1", "product")
    assert world.delete("admin", "product", code).status_code == 204


# ---- deleting ---------------------------------------------------------------------------------

@pytest.mark.parametrize("who, rtype", by_rights(DELETE_RIGHTS, allowed=True))
def test_role_deletes_records_inside_its_scope(world, who, rtype):
    label = IN_SCOPE[rtype]
    response = world.delete(who, rtype, label)
    assert response.status_code == 204, response.get_json()
    stored = world.stored(rtype, label)
    assert stored["deleted"] is True and stored["version"] == 2
    assert world.get(who, rtype, label).status_code == 404
    assert label not in world.listed(who, rtype)


@pytest.mark.parametrize("who, rtype", by_rights(DELETE_RIGHTS, allowed=False))
def test_role_without_delete_rights_is_refused_and_nothing_changes(world, who, rtype):
    label = IN_SCOPE[rtype]
    before = world.stored(rtype, label)
    assert_forbidden(world.delete(who, rtype, label))
    assert world.stored(rtype, label) == before
    assert before["deleted"] is False


@pytest.mark.parametrize("who, rtype", by_rights(DELETE_RIGHTS, allowed=True, users=("b1", "sA")))
def test_deleting_a_record_outside_scope_is_forbidden_and_changes_nothing(world, who, rtype):
    outside = sorted(world.labels(rtype) - readable(who, rtype))
    assert outside
    for label in outside:
        before = world.stored(rtype, label)
        assert_forbidden(world.delete(who, rtype, label))
        assert world.stored(rtype, label) == before, label
