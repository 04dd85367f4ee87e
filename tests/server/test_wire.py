"""The dumper compiled from each marshmallow schema gives exactly what marshmallow gives."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.resources.registry import registry
from server.syncing.store import _wire_columns
from tests.factories import (make_community, make_grid, make_household, make_order, make_person, make_ticket,
                             make_touchpoint, make_user, make_visit)


@pytest.fixture
def records(session):
    community = make_community()
    butler = make_user("butler", community_id=community.id)
    household = make_household(community, make_grid(community, butler), area_m2=98.5)
    make_person(household, birth_year=1950, tags=["行动不便"])
    make_visit(household, butler, checklist={"门窗": {"ok": False, "note": "漏风"}}, needs=["保洁"],
               products_interest=["water"], follow_up_at=__import__("datetime").date(2026, 12, 1))
    make_touchpoint(household, butler)
    make_ticket(household, status="new")
    make_order(household)
    return registry()


@pytest.mark.parametrize("rtype", sorted(registry_types := ["household", "person", "visit", "touchpoint",
                                                            "ticket", "order", "product"]))
def test_compiled_dump_equals_marshmallow_for_objects_and_rows(records, session, rtype):
    res = records[rtype]
    objects = session.scalars(sa.select(res.model)).all()
    assert objects
    for obj in objects:
        assert res.dump(obj) == res.wire.dump(obj)
    for row in session.execute(sa.select(*_wire_columns(rtype))).mappings():
        obj = session.get(res.model, row["id"])
        assert res.dump(row) == res.wire.dump(obj)
