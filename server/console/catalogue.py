"""The console's reference lists: the service catalogue (服务产品) and the visit
checklist template (入户检查清单).

The catalogue is the company's, shared by every community: administrators edit it, supervisors read it.
A product is never deleted (orders name it); taking it out of the catalogue makes every phone evict it
at its next sync. The checklist is each community's own: its supervisors (or an administrator) edit it,
and phones fetch it again within the hour. Visits already made keep their answers by item key, so
renaming or removing an item never changes them.

Both write through the domain's own functions and schemas, as the REST API does.
"""
from __future__ import annotations

import secrets

from flask import g, request
from marshmallow import ValidationError

from server import i18n
from server.console import queries
from server.console.auth import console_login_required
from server.console.pages import bp, current_community, done, failed, language, render_page, t
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.products.models import PRODUCT_CATEGORIES
from server.resources import service
from server.visits import service as visits
from server.visits.schemas import ChecklistTemplateSchema

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "life": ("生活管家", "Life butler"), "house": ("房务管家", "House butler"), "asset": ("资产管家", "Asset butler"),
}
PRODUCT_FIELDS = ("name", "name_en", "category", "price", "unit")
NEW_ROWS = 3  # blank rows offered for new checklist items (no script: the form is plain HTML)


# ---- the service catalogue --------------------------------------------------------------------

def _catalogue_page(refused: dict | None = None):
    lang = language()
    return render_page("console/catalogue.html", refused, products=queries.products(db.session),
                       categories=PRODUCT_CATEGORIES, editable=g.user.role == "admin",
                       category_name=lambda code: i18n.pick(CATEGORY_NAMES[code], lang))


def _product_form() -> dict:
    values = {name: request.form.get(name, "").strip() for name in PRODUCT_FIELDS}
    values["active"] = request.form.get("active") == "on"
    return values


def _product_data(values: dict) -> dict:
    """The form's strings as the product schema reads them (a price that is not a number is left as
    text, for the schema to refuse in the page's language)."""
    data = dict(values)
    try:
        data["price"] = float(values["price"])
    except ValueError:
        pass
    return data


@bp.get("/catalogue")
@console_login_required
def catalogue():
    """The service catalogue; editable by administrators."""
    return _catalogue_page()


@bp.post("/catalogue")
@console_login_required
def product_create():
    """Add a product under a new code."""
    values = {"code": request.form.get("code", "").strip(), **_product_form()}
    try:
        if not values["code"]:
            raise ValidationFailed([FieldError("code", "required")])
        product = service.create(db.session, user=g.user, rtype="product", record_id=values["code"],
                                 data=_product_data({k: v for k, v in values.items() if k != "code"}))
        db.session.commit()
    except ApiError as error:
        return _catalogue_page(failed(error, "create", None, values))
    return done(t("done_product_added", name=product.name), "console.catalogue")


@bp.post("/catalogue/<code>")
@console_login_required
def product_save(code: str):
    """Change a product's names, price, unit, category, and whether it is on sale."""
    values = _product_form()
    try:
        product = service.update(db.session, user=g.user, rtype="product", record_id=code,
                                 data=_product_data(values))
        db.session.commit()
    except ApiError as error:
        return _catalogue_page(failed(error, "save", code, values))
    return done(t("done_product_saved", name=product.name), "console.catalogue")


# ---- the visit checklist template ---------------------------------------------------------------

def _checklist_page(refused: dict | None = None, rows: list[dict] | None = None):
    template = visits.checklist_template(db.session, user=g.user, community_id=current_community())
    if rows is None:
        rows = [{**item, "order": str(i + 1), "remove": False} for i, item in enumerate(template["items"])]
        rows += [{"key": "", "zh": "", "en": "", "order": "", "remove": False} for _ in range(NEW_ROWS)]
    return render_page("console/checklist.html", refused, rows=rows, version=template["version"])


def _checklist_rows(form) -> list[dict]:
    """The form's rows as sent: row i has key_i (empty for a new item), zh_i, en_i, order_i, remove_i."""
    raw = form.get("rows", "")
    count = min(int(raw), 200) if raw.isdigit() else 0
    return [{"key": form.get(f"key_{i}", "").strip(), "zh": form.get(f"zh_{i}", "").strip(),
             "en": form.get(f"en_{i}", "").strip(), "order": form.get(f"order_{i}", "").strip(),
             "remove": form.get(f"remove_{i}") == "on"} for i in range(count)]


def checklist_items(rows: list[dict]) -> list[dict]:
    """The items the rows ask for, in their order: removed and blank rows left out, new items given a
    key of their own (answers are kept by key, so a key is never reused for another item)."""
    kept = [(i, row) for i, row in enumerate(rows) if not row["remove"] and (row["zh"] or row["en"] or row["key"])]

    def position(entry):
        i, row = entry
        return (int(row["order"]) if row["order"].isdigit() else len(rows) + i, i)

    return [{"key": row["key"] or f"item_{secrets.token_hex(4)}", "zh": row["zh"], "en": row["en"]}
            for _, row in sorted(kept, key=position)]


@bp.get("/checklist")
@console_login_required
def checklist():
    """The community's visit checklist, as a form."""
    return _checklist_page()


@bp.post("/checklist")
@console_login_required
def checklist_save():
    """Replace the community's visit checklist with the form's rows."""
    rows = _checklist_rows(request.form)
    try:
        items = checklist_items(rows)
        if not items:
            raise ValidationFailed([FieldError("items", "empty_checklist")])
        try:
            data = ChecklistTemplateSchema().load({"items": items})
        except ValidationError as invalid:
            raise ValidationFailed.from_marshmallow(invalid) from None
        template = visits.set_checklist_template(db.session, user=g.user, items=data["items"],
                                                 community_id=current_community())
        db.session.commit()
    except ApiError as error:
        return _checklist_page(failed(error, "checklist", None, {}), rows)
    return done(t("done_checklist", version=template["version"], count=len(template["items"])), "console.checklist")
