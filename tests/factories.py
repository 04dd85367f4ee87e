"""Small builders of records, each with sensible defaults that a test overrides by keyword."""
from __future__ import annotations

import itertools
from datetime import datetime, timezone

from sqlalchemy.exc import OperationalError

from server.auth.models import Device, User
from server.auth.service import hash_password, hash_token
from server.community.models import Community, Grid, Household, Person
from server.extensions import db
from server.notices.models import Notice
from server.products.models import Order
from server.records import new_id
from server.tickets.models import Ticket
from server.visits.models import DEFAULT_CHECKLIST, Touchpoint, Visit

PASSWORD = "correct horse battery"
_PASSWORD_HASH = None
_counter = itertools.count(1)


def _password_hash() -> str:
    global _PASSWORD_HASH  # argon2 is slow on purpose: hash the shared test password once
    if _PASSWORD_HASH is None:
        _PASSWORD_HASH = hash_password(PASSWORD)
    return _PASSWORD_HASH


def _save(record):
    for attempt in (1, 2, 3):
        db.session.add(record)
        try:
            db.session.commit()
        except OperationalError as exc:
            # SQLite refuses at once a write from a transaction whose reads another connection's
            # commit has since passed (a worker thread of the test writing meanwhile): the reads
            # are done (the record holds its values), so write again in a fresh transaction.
            db.session.rollback()
            if "database is locked" not in str(exc) or attempt == 3:
                raise
        else:
            return record


def make_community(**overrides) -> Community:
    return _save(Community(**{"name": f"小区{next(_counter)}", "city": "杭州", **overrides}))


def make_user(role: str = "butler", **overrides) -> User:
    n = next(_counter)
    values = {"username": f"{role}{n}", "name": f"{role} {n}", "role": role,
              "password_hash": _password_hash(), **overrides}
    return _save(User(**values))


def make_grid(community: Community, butler: User | None = None, **overrides) -> Grid:
    return _save(Grid(**{"community_id": community.id, "name": f"网格{next(_counter)}",
                         "butler_id": butler.id if butler else None, **overrides}))


def make_household(community: Community, grid: Grid | None = None, **overrides) -> Household:
    n = next(_counter)
    return _save(Household(**{"community_id": community.id, "grid_id": grid.id if grid else None,
                              "building": "1栋", "unit": "1单元", "room": str(100 + n),
                              "tags": ["独居老人"], "notes": "内部备注", **overrides}))


def make_person(household: Household, **overrides) -> Person:
    return _save(Person(**{"household_id": household.id, "name": "王芳", "relation": "owner",
                           "consent": True, "phone": "13800138000", **overrides}))


def make_visit(household: Household, butler: User, **overrides) -> Visit:
    return _save(Visit(**{"household_id": household.id, "butler_id": butler.id,
                          "visited_at": datetime(2026, 11, 1, 2, tzinfo=timezone.utc),
                          "satisfaction": 5, **overrides}))


def complete_visit(fields: dict | None = None, *, keys=None) -> dict:
    """A new visit's fields as the app sends them: the answers `fields` gives, every other checklist item
    (of `keys`, else of the default checklist) answered ok, and explicitly unrated (未评价: `satisfaction`
    null) unless `fields` rates it. The server refuses a new visit that records nothing
    (server/visits/service.py, unanswered)."""
    fields = dict(fields or {})
    keys = [item["key"] for item in DEFAULT_CHECKLIST] if keys is None else keys
    checklist = {**{key: {"ok": True} for key in keys}, **fields.pop("checklist", {})}  # 其余全部正常
    return {"checklist": checklist, "satisfaction": None, **fields}


def make_touchpoint(household: Household, butler: User, **overrides) -> Touchpoint:
    return _save(Touchpoint(**{"household_id": household.id, "butler_id": butler.id,
                               "at": datetime(2026, 11, 2, 2, tzinfo=timezone.utc), "channel": "lobby",
                               "summary": "大堂问候", **overrides}))


def make_ticket(household: Household, **overrides) -> Ticket:
    return _save(Ticket(**{"household_id": household.id, "category": "repair",
                           "description": "水龙头漏水", **overrides}))


def make_notice(community: Community, **overrides) -> Notice:
    return _save(Notice(**{"community_id": community.id, "title": f"公告{next(_counter)}", "body": "", **overrides}))


def make_order(household: Household, **overrides) -> Order:
    return _save(Order(**{"household_id": household.id, "product_code": "water", "quantity": 2,
                          **overrides}))


def token_for(user: User, name: str = "test") -> str:
    """A device token for the user, made directly (logging in through the API is slower)."""
    token = f"test-token-{new_id()}"
    _save(Device(user_id=user.id, token_hash=hash_token(token), name=name))
    return token


def auth(user: User) -> dict[str, str]:
    return {"Authorization": f"Bearer {token_for(user)}"}


def make_plan_item(community: Community, created_by: User, **overrides):
    """A plan item of November 2026 (the month of `month` when given), due mid-month."""
    from datetime import date

    from server.operations.models import WorkPlanItem

    month = overrides.pop("month", date(2026, 11, 1))
    values = {"community_id": community.id, "month": month, "category": "cleaning", "title": "楼道保洁",
              "due_date": month.replace(day=15), "created_by": created_by.id, **overrides}
    return _save(WorkPlanItem(**values))


def make_inspection(community: Community, inspector: User, **overrides):
    """A cleaning inspection whose answers all passed, unless `items` says otherwise."""
    from datetime import date

    from server.operations.checklists import checklist
    from server.operations.models import Inspection

    category = overrides.pop("category", "cleaning")
    items = overrides.pop("items", [{**entry, "passed": True, "note": ""} for entry in checklist(category)])
    values = {"community_id": community.id, "inspected_on": date(2026, 11, 10), "category": category,
              "place": "3栋大堂", "inspector_id": inspector.id, "items": items,
              "passed": sum(item["passed"] for item in items), "total": len(items), **overrides}
    return _save(Inspection(**values))


def make_team(community: Community, kind: str = "engineering", **overrides):
    """A back-office team of the community (server/teams), with nobody in it yet."""
    from server.syncing import bookkeeping
    from server.teams.models import Team

    values = {"community_id": community.id, "name": f"工程部{next(_counter)}", "kind": kind,
              "company": "安心维修公司" if kind == "vendor" else "", "members": [], **overrides}
    return _save(Team(**bookkeeping.created(db.session, "team", values)))


def make_technician(team, **overrides) -> User:
    """A technician in `team`, who joins it as the service does (the team's member list follows)."""
    from server.teams.service import join

    user = make_user("technician", community_id=team.community_id, **overrides)
    join(db.session, user, team)
    db.session.commit()
    return user
