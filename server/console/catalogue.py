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

import sqlalchemy as sa
from flask import flash, g, redirect, render_template, request, url_for
from marshmallow import ValidationError

from server import i18n
from server.console.actions import _community, _failed, _messages
from server.console.auth import console_login_required
from server.console.views import TEXT, bp, community_query, language, t
from server.errors import ApiError, FieldError, ValidationFailed
from server.extensions import db
from server.products.models import PRODUCT_CATEGORIES, Product
from server.resources import service
from server.visits import service as visits
from server.visits.schemas import ChecklistTemplateSchema

TEXT.update({
    "catalogue": ("服务产品", "Service catalogue"),
    "catalogue_intro": ("全公司共用的服务产品目录。下架的产品会在手机下次同步时移除，已有订单不受影响。",
                        "The company's catalogue, shared by every community. A withdrawn product leaves the phones "
                        "at their next sync; orders already placed keep it."),
    "catalogue_readonly": ("服务产品目录由管理员维护。", "The catalogue is kept by the administrators."),
    "code": ("编码", "Code"),
    "name_zh": ("名称", "Name (Chinese)"),
    "name_en": ("英文名称", "Name (English)"),
    "price": ("价格（元）", "Price (CNY)"),
    "unit": ("单位", "Unit"),
    "on_sale": ("在售", "On sale"),
    "withdrawn": ("已下架", "Withdrawn"),
    "new_product": ("新增产品", "New product"),
    "add": ("添加", "Add"),
    "done_product_saved": ("已保存产品“{name}”。", "Product {name} saved."),
    "done_product_added": ("已添加产品“{name}”，手机将在下次同步时收到。",
                           "Product {name} added; phones receive it at their next sync."),
    "checklist": ("入户检查清单", "Visit checklist"),
    "checklist_intro": ("管家每次入户时逐项检查的内容。修改后，手机在一小时内更新；已完成的入户记录不受影响。",
                        "What a butler checks in every home visit. Phones pick up a change within the hour; "
                        "visits already made keep their answers."),
    "checklist_default": ("本小区尚未设置清单，正在使用默认清单。", "This community has set no checklist; the default one is in use."),
    "item_zh": ("检查项（中文）", "Item (Chinese)"),
    "item_en": ("检查项（英文）", "Item (English)"),
    "order_no": ("顺序", "Order"),
    "remove": ("删除", "Remove"),
    "new_items": ("新增检查项（留空则忽略）", "New items (blank rows are ignored)"),
    "save_checklist": ("保存清单", "Save checklist"),
    "done_checklist": ("检查清单已保存（第 {version} 版），共 {count} 项。",
                       "Checklist saved (version {version}), {count} items."),
    "err_empty_checklist": ("清单至少需要一项。", "The checklist needs at least one item."),
})

CATEGORY_NAMES: dict[str, tuple[str, str]] = {
    "life": ("生活管家", "Life butler"), "house": ("房务管家", "House butler"), "asset": ("资产管家", "Asset butler"),
}
PRODUCT_FIELDS = ("name", "name_en", "category", "price", "unit")
NEW_ROWS = 3  # blank rows offered for new checklist items (no script: the form is plain HTML)


# ---- the service catalogue --------------------------------------------------------------------

def _catalogue_page(failed: dict | None = None):
    products = list(db.session.scalars(sa.select(Product).where(Product.deleted.is_(False))
                                       .order_by(Product.active.desc(), Product.category, Product.id)))
    lang = language()
    context = {"products": products, "categories": PRODUCT_CATEGORIES, "editable": g.user.role == "admin",
               "category_name": lambda code: i18n.pick(CATEGORY_NAMES[code], lang),
               "failed": failed, "messages": _messages()}
    return render_template("console/catalogue.html", **context), (failed["status"] if failed else 200)


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
        return _catalogue_page(_failed(error, "create", None, values))
    flash(t("done_product_added", name=product.name))
    return redirect(url_for("console.catalogue", **community_query()))


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
        return _catalogue_page(_failed(error, "save", code, values))
    flash(t("done_product_saved", name=product.name))
    return redirect(url_for("console.catalogue", **community_query()))


# ---- the visit checklist template ---------------------------------------------------------------

def _checklist_page(failed: dict | None = None, rows: list[dict] | None = None):
    community = _community()
    template = visits.checklist_template(db.session, user=g.user, community_id=community)
    if rows is None:
        rows = [{**item, "order": str(i + 1), "remove": False} for i, item in enumerate(template["items"])]
        rows += [{"key": "", "zh": "", "en": "", "order": "", "remove": False} for _ in range(NEW_ROWS)]
    context = {"rows": rows, "version": template["version"], "failed": failed, "messages": _messages()}
    return render_template("console/checklist.html", **context), (failed["status"] if failed else 200)


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
                                                 community_id=_community())
        db.session.commit()
    except ApiError as error:
        return _checklist_page(_failed(error, "checklist", None, {}), rows)
    flash(t("done_checklist", version=template["version"], count=len(template["items"])))
    return redirect(url_for("console.checklist", **community_query()))
