"""The console's service catalogue and visit checklist (server/console/catalogue.py)."""
from __future__ import annotations

import pytest

from server.products.models import Product
from server.visits.models import ChecklistTemplate
from tests.factories import auth, make_community, make_grid, make_household, make_user
from tests.server.test_console_actions import post, text
from tests.support.console import log_in
from tests.support.phone import Phone


@pytest.fixture
def world(session):
    community = make_community(name="翠湖花园")
    butler = make_user("butler", name="李管家", community_id=community.id)
    make_household(community, make_grid(community, butler))
    supervisor = make_user("supervisor", name="王主管", community_id=community.id)
    admin = make_user("admin", name="管理员", community_id=community.id)
    other = make_community(name="别的小区")
    return {"community": community, "butler": butler, "supervisor": supervisor, "admin": admin, "other": other}


PRODUCT = {"name": "桶装水（18.9L）", "name_en": "Bottled water", "category": "life", "price": "18.00",
           "unit": "桶", "active": "on"}


def product_ids(client, user) -> set[str]:
    return {c["id"] for c in Phone(client, user).pull_all() if c["type"] == "product" and c["op"] == "put"}


# ---- the catalogue ----------------------------------------------------------------------------

def test_an_admin_adds_a_product_and_the_butlers_phones_receive_it(client, world, session):
    log_in(client, world["admin"].username)
    answer = post(client, "/console/catalogue", {"code": "water_19l", **PRODUCT}, "/console/catalogue")
    assert answer.status_code == 302
    assert "已添加产品" in text(client.get(answer.headers["Location"]))
    product = session.get(Product, "water_19l")
    assert (product.name, product.price, product.unit, product.active) == ("桶装水（18.9L）", 18.0, "桶", True)
    assert "water_19l" in product_ids(client, world["butler"])


def test_withdrawing_a_product_evicts_it_from_the_phones(client, world, session):
    log_in(client, world["admin"].username)
    post(client, "/console/catalogue", {"code": "water_19l", **PRODUCT}, "/console/catalogue")
    phone = Phone(client, world["butler"])
    assert "water_19l" in {c["id"] for c in phone.pull_all() if c["type"] == "product"}
    withdrawn = {k: v for k, v in PRODUCT.items() if k != "active"}  # an unticked box is not sent
    assert post(client, "/console/catalogue/water_19l", {**withdrawn, "price": "20"},
                "/console/catalogue").status_code == 302
    session.expire_all()
    product = session.get(Product, "water_19l")
    assert (product.active, product.price) == (False, 20.0)
    gone = [c for c in phone.pull_all() if c["type"] == "product" and c["id"] == "water_19l"]
    assert gone and gone[-1]["op"] in ("evict", "delete")


def test_a_bad_price_is_refused_in_words_and_changes_nothing(client, world, session):
    log_in(client, world["admin"].username)
    post(client, "/console/catalogue", {"code": "water_19l", **PRODUCT}, "/console/catalogue")
    refused = post(client, "/console/catalogue/water_19l", {**PRODUCT, "price": "十八元"}, "/console/catalogue")
    assert refused.status_code == 422
    html = text(refused)
    assert 'class="error"' in html and 'value="十八元"' in html  # what was typed is shown again
    session.expire_all()
    assert session.get(Product, "water_19l").price == 18.0
    duplicate = post(client, "/console/catalogue", {"code": "water_19l", **PRODUCT}, "/console/catalogue")
    assert duplicate.status_code in (409, 422)


def test_supervisors_read_the_catalogue_but_cannot_change_it(client, world, session):
    log_in(client, world["supervisor"].username)
    html = text(client.get("/console/catalogue"))
    assert "由管理员维护" in html and 'name="price"' not in html
    refused = post(client, "/console/catalogue", {"code": "sneaky", **PRODUCT}, "/console/catalogue")
    assert refused.status_code == 403
    assert session.get(Product, "sneaky") is None


# ---- the visit checklist ----------------------------------------------------------------------

def checklist_form(rows: list[tuple[str, str, str, str, bool]]) -> dict:
    form = {"rows": str(len(rows))}
    for i, (key, zh, en, order, remove) in enumerate(rows):
        form.update({f"key_{i}": key, f"zh_{i}": zh, f"en_{i}": en, f"order_{i}": order})
        if remove:
            form[f"remove_{i}"] = "on"
    return form


def test_a_supervisor_edits_the_checklist_and_the_phones_read_the_new_one(client, world, session):
    log_in(client, world["supervisor"].username)
    html = text(client.get("/console/checklist"))
    assert "水电气" in html and "checklist-default" in html
    form = checklist_form([("utilities", "水电燃气", "Water, power, gas", "2", False),
                           ("leaks", "渗漏", "Leaks", "", True),
                           ("", "高空抛物隐患", "Things thrown from windows", "1", False),
                           ("", "", "", "", False)])
    answer = post(client, "/console/checklist", form, "/console/checklist")
    assert answer.status_code == 302
    assert "检查清单已保存（第 1 版），共 2 项" in text(client.get(answer.headers["Location"]))
    items = session.get(ChecklistTemplate, world["community"].id).items
    assert [item["zh"] for item in items] == ["高空抛物隐患", "水电燃气"]
    assert items[1]["key"] == "utilities" and items[0]["key"].startswith("item_")
    served = client.get("/api/v1/visit-template", headers=auth(world["butler"])).get_json()
    assert [item["zh"] for item in served["items"]] == ["高空抛物隐患", "水电燃气"]


def test_an_empty_or_too_long_checklist_is_refused_and_nothing_changes(client, world, session):
    log_in(client, world["supervisor"].username)
    empty = post(client, "/console/checklist", checklist_form([("utilities", "水电气", "", "", True)]),
                 "/console/checklist")
    assert empty.status_code == 422 and "至少需要一项" in text(empty)
    long = post(client, "/console/checklist", checklist_form([("", "很" * 101, "", "", False)]), "/console/checklist")
    assert long.status_code == 422 and "很" * 101 in text(long)  # kept in the form to be fixed
    assert session.get(ChecklistTemplate, world["community"].id) is None


def test_butlers_may_not_open_the_reference_pages(client, world):
    log_in(client, world["butler"].username)
    for page in ("/console/catalogue", "/console/checklist"):
        assert client.get(page).status_code in (302, 403)
