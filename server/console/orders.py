"""The console's orders (服务订单): every order of the community, filtered by status, product, building
and the day it was placed, a page at a time, and the same list as CSV (cells that would start a formula
in Excel are kept as text, server/console/figures.py). Supervisors also move an order here (confirm,
deliver, cancel or refund with a reason) through the same state machine as the phones
(server/products/service.py).
"""
from __future__ import annotations

from datetime import datetime, time, timedelta
from zoneinfo import ZoneInfo

import sqlalchemy as sa
from flask import Response, g, request, url_for

from server import i18n
from server.audit import service as audit
from server.community.models import Household
from server.console import queries
from server.console.auth import console_login_required
from server.console.figures import Column, Table, to_csv
from server.console.pages import (BadDates, address, bp, community_query, current_community, date_range, done, failed, language,
                                  render_page, t, zone_name)
from server.errors import ApiError
from server.extensions import db
from server.products.models import ORDER_STATUSES, Order, Product
from server.products.service import ORDER_TRANSITIONS
from server.resources import service

PAGE = 50
ORDER_STATES: dict[str, tuple[str, str]] = {
    "placed": ("待确认", "placed"), "confirmed": ("已确认", "confirmed"), "delivered": ("已送达", "delivered"),
    "cancelled": ("已取消", "cancelled"), "refunded": ("已退款", "refunded"),
}
MAX_ROWS = 10000  # a CSV longer than this is cut (the filters narrow it)


def _filters(args) -> dict:
    """The page's filters from the query string; unknown values count as none."""
    status = args.get("status", "")
    return {"status": status if status in ORDER_STATUSES else "", "product": args.get("product", "").strip()[:36],
            "building": args.get("building", "").strip()[:20]}


def _query(community: str | None, filters: dict, start, end):
    zone = ZoneInfo(zone_name())
    since = datetime.combine(start, time.min, zone)
    until = datetime.combine(end + timedelta(days=1), time.min, zone)
    query = (sa.select(Order, Household, Product).join(Household, Household.id == Order.household_id)
             .join(Product, Product.id == Order.product_code)
             .where(Order.deleted.is_(False), Household.community_id == community,
                    Order.created_at >= since, Order.created_at < until))
    if filters["status"]:
        query = query.where(Order.status == filters["status"])
    if filters["product"]:
        query = query.where(Order.product_code == filters["product"])
    if filters["building"]:
        query = query.where(Household.building == filters["building"])
    return query.order_by(Order.created_at.desc(), Order.id)


def state_name(code: str) -> str:
    return i18n.pick(ORDER_STATES.get(code, (code, code)), language())


def _product_name(product: Product) -> str:
    return product.name_en if language() == "en" and product.name_en else product.name


def _local(moment: datetime | None) -> str:
    return moment.astimezone(ZoneInfo(zone_name())).strftime("%Y-%m-%d %H:%M") if moment else ""


def _orders_page(refused: dict | None = None):
    community = current_community()
    filters = _filters(request.args)
    page = max(1, request.args.get("page", 1, type=int) or 1)
    bad, rows, more = None, [], False
    try:
        start, end = date_range(request.args)
    except BadDates as error:
        bad, start, end = t(error.key, **error.params), None, None
    if bad is None:
        found = list(db.session.execute(_query(community, filters, start, end).offset((page - 1) * PAGE)
                                        .limit(PAGE + 1)))
        rows, more = found[:PAGE], len(found) > PAGE
    query = {k: v for k, v in {**filters, "start": start.isoformat() if start else "",
                              "end": end.isoformat() if end else ""}.items() if v} | community_query()
    users = queries.users_by_id(db.session, {o.ordered_by for o, _h, _p in rows if o.ordered_by})
    return render_page("console/orders.html", refused, rows=rows, filters=filters, start=start, end=end, bad=bad,
                       page=page, more=more, query=query, state_name=state_name,
                       statuses=[(code, state_name(code)) for code in ORDER_STATUSES],
                       products=[(p.id, _product_name(p)) for p in queries.products(db.session)],
                       buildings=[(name, name) for name in queries.buildings(db.session, community)],
                       product_name=_product_name, address=address, users=users,
                       local=_local, moves=ORDER_TRANSITIONS,
                       csv_url=url_for("console.orders_csv", **query))


@bp.get("/orders")
@console_login_required
def orders():
    """The community's orders, newest first, filtered and paged."""
    return _orders_page()


@bp.get("/orders.csv")
@console_login_required
def orders_csv():
    """The filtered orders as CSV (UTF-8 with a BOM, for Excel)."""
    community = current_community()
    filters = _filters(request.args)
    try:
        start, end = date_range(request.args)
    except BadDates as error:
        return render_page("console/error.html", message=t(error.key, **error.params), status=400)
    rows = db.session.execute(_query(community, filters, start, end).limit(MAX_ROWS)).all()
    table = Table("orders", "订单", "Orders", (
        Column("created_at", "下单时间", "Placed", "text"), Column("status", "状态", "Status", "text"),
        Column("product", "产品", "Product", "text"), Column("quantity", "数量", "Quantity", "int"),
        Column("address", "地址", "Address", "text"), Column("note", "备注", "Note", "text"),
        Column("reason", "原因", "Reason", "text"), Column("confirmed_at", "确认时间", "Confirmed", "text"),
        Column("delivered_at", "送达时间", "Delivered", "text")),
        tuple((_local(o.created_at), state_name(o.status), _product_name(p), o.quantity, address(h), o.note,
               o.reason, _local(o.confirmed_at), _local(o.delivered_at)) for o, h, p in rows))
    filename = f"orders_{start.isoformat()}_{end.isoformat()}.csv"
    return Response(to_csv(table, language()), content_type="text/csv; charset=utf-8",
                    headers={"Content-Disposition": f'attachment; filename="{filename}"'})


@bp.post("/orders/<order_id>/status")
@console_login_required
def order_status(order_id: str):
    """Move an order one step (form fields `status`, and `reason` to cancel or refund)."""
    values = {"status": request.form.get("status", ""), "reason": request.form.get("reason", "").strip()}
    data = {"status": values["status"]} | ({"reason": values["reason"]} if values["reason"] else {})
    try:
        order = service.update(db.session, user=g.user, rtype="order", record_id=order_id, data=data,
                               via=audit.Via("console", g.device.id))
        db.session.commit()
    except ApiError as error:
        return _orders_page(failed(error, "status", order_id, values))
    return done(t("ord_done_status", status=state_name(order.status)), "console.orders")
