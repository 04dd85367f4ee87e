"""The dumper compiled from each marshmallow schema gives exactly what marshmallow gives."""
from __future__ import annotations

import pytest
import sqlalchemy as sa

from server.resources.registry import registry
from server.resources.hooks import Rights
from server.syncing.store import _row_dumper, _wire_columns
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


@pytest.mark.parametrize("rtype", registry_types)
@pytest.mark.parametrize("role", ["butler", "resident", "supervisor"])
def test_a_pulled_row_is_dumped_as_the_user_may_see_it(records, session, rtype, role):
    """The pull's generated dump of a row: the general dump, less the fields the role may not see."""
    res = records[rtype]
    hidden = res.rights.get(role, Rights()).hidden
    rows = session.execute(sa.select(*_wire_columns(rtype))).all()
    assert rows
    for row in rows:
        expected = {k: v for k, v in res.wire.dump(session.get(res.model, row.id)).items() if k not in hidden}
        assert _row_dumper(rtype, hidden)(row) == expected


def test_every_synced_type_has_a_generated_row_dump():
    from server.wire import compile_row_dumper

    for rtype, res in registry().items():
        columns = tuple(column.name for column in _wire_columns(rtype))
        assert compile_row_dumper(res.wire, columns) is not None, rtype
