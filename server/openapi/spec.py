"""The OpenAPI 3.1 description of /api/v1, made by apispec from the marshmallow schemas themselves.

The views stay as they are; this module says what each one takes and answers. The generic record
collections (server/resources/api.py) are described once per record type the registry declares,
with the type's schema as read (`Ticket`), as created (`TicketNew`) and as changed
(`TicketChanges`). The sync envelope comes from sync/protocol.py, errors from server/errors.py.
A test walks the app's routes and fails on any /api/v1 route this document leaves out.
"""
from __future__ import annotations

import copy
from typing import Any

import sqlalchemy as sa
from apispec import APISpec
from apispec.ext.marshmallow import MarshmallowPlugin
from flask import Flask
from marshmallow import Schema, fields

from server.attachments import images as attachment_images
from server.attachments.models import MAX_BYTES as MAX_PHOTO_BYTES
from server.attachments.models import MAX_CHUNK_BYTES
from server.attachments.schemas import UploadStateSchema
from server.auth.schemas import DeviceSchema, LoginSchema, PasswordChangeSchema, ResidenceSchema, UserSchema
from server.errors import ErrorSchema
from server.joining import schemas as joining
from server.teams import schemas as team_people
from server.notify.schemas import EventSchema, PushSubscriptionSchema
from server.resources.registry import Resource, registry
from server.resources.service import MAX_ID_LENGTH, MAX_PAGE
from server.tickets.models import FOLLOW_UP_STATES
from server.tickets.schemas import FollowUpSchema, TicketStepSchema
from server.visits.schemas import ChecklistTemplateSchema
from sync.protocol import Limits, SyncRequestSchema, SyncResponseSchema

TITLE = "睿管家 Guanjia API"
VERSION = "1"
PREFIX = "/api/v1"
JSON = "application/json"

# Each error status: what it means, for the reference.
ERRORS = {
    400: ("BadRequest", "400 请求体不是 JSON / the body is not JSON (`malformed_json`)"),
    401: ("Unauthorized", "401 未登录或令牌失效 / no token, or a dead one (`unauthorized`, `invalid_token`, "
                          "`device_revoked` with `details.wipe`)"),
    403: ("Forbidden", "403 超出权限范围 / outside the caller's scope or rights; or `password_change_required`: "
                       "a supervisor chose this user's password, and until they set their own (`POST "
                       "/me/password`) only logout and /me answer"),
    404: ("NotFound", "404 不存在 / no such record"),
    409: ("Conflict", "409 版本已变或已存在 / someone changed it first (`stale_version`), or it exists (`already_exists`)"),
    413: ("TooLarge", "413 请求过大 / the body is too large (`too_large`), or a photo above 10 MB (`photo_too_large`)"),
    415: ("UnsupportedType", "415 内容类型不对 / the body's Content-Type is not the one the operation takes"),
    422: ("ValidationFailed", "422 字段有误 / fields are wrong, one entry per field in `details.errors` "
                              "(unknown keys included)"),
    426: ("ClientOutdated", "426 应用需更新 / the client is older than `min_schema`"),
    429: ("TooManyRequests", "429 尝试过多 / too many failed logins or join attempts; see `Retry-After`"),
    503: ("Unavailable", "503 暂不可用 / the database (or push) is not available; try again later"),
}
AUTHENTICATED = (401, 503)  # every view behind the bearer token may answer these
# ... and 403 `password_change_required` while the user must set their own password, but for the
# operations marked open_while_password_must_change (server/auth/api.py WHILE_PASSWORD_MUST_CHANGE).
WITH_BODY = (400, 413, 422)  # every view that reads a JSON body


class _HealthSchema(Schema):
    status = fields.String(required=True)
    db = fields.String(required=True)


class _LoginAnswerSchema(Schema):
    token = fields.String(required=True)
    user = fields.Nested(UserSchema, required=True)


class _DevicesSchema(Schema):
    devices = fields.List(fields.Nested(DeviceSchema), required=True)
    current = fields.String(required=True)


class _PushKeySchema(Schema):
    key = fields.String(required=True)


class _SubscriptionsSchema(Schema):
    subscriptions = fields.List(fields.Nested(PushSubscriptionSchema), required=True)


class _NotificationsSchema(Schema):
    cursor = fields.String(required=True)
    events = fields.List(fields.Nested(EventSchema), required=True)


class _FollowUpsSchema(Schema):
    follow_ups = fields.List(fields.Nested(FollowUpSchema), required=True)


class _TimelineSchema(Schema):
    steps = fields.List(fields.Nested(TicketStepSchema), required=True)


_NAMES = {_HealthSchema: "Health", _LoginAnswerSchema: "LoginAnswer", _DevicesSchema: "Devices",
          _PushKeySchema: "PushKey", _SubscriptionsSchema: "PushSubscriptions",
          _NotificationsSchema: "Notifications", _FollowUpsSchema: "FollowUps", _TimelineSchema: "TicketTimeline",
          SyncRequestSchema: "SyncRequest", SyncResponseSchema: "SyncResponse"}


def _schema_name(schema) -> str:
    cls = schema if isinstance(schema, type) else type(schema)
    if cls in _NAMES:
        return _NAMES[cls]
    return cls.__name__.removesuffix("Schema")


def build(app: Flask) -> dict[str, Any]:
    """The whole document as a dict (JSON-ready)."""
    plugin = MarshmallowPlugin(schema_name_resolver=_schema_name)
    spec = APISpec(title=TITLE, version=VERSION, openapi_version="3.1.0", plugins=[plugin],
                   info={"description": _DESCRIPTION},
                   servers=[{"url": PREFIX}],
                   security=[{"bearer": []}])
    spec.components.security_scheme("bearer", {
        "type": "http", "scheme": "bearer",
        "description": "设备令牌 / the device token from `POST /auth/login` (one per device; "
                       "`POST /auth/logout` revokes it)."})
    spec.components.schema("Error", schema=ErrorSchema)
    for status, (name, description) in ERRORS.items():
        spec.components.response(name, {"description": description,
                                         "content": {JSON: {"schema": {"$ref": "#/components/schemas/Error"}}}})
    limits = Limits(max_mutations=app.config["SYNC_MAX_MUTATIONS"], max_bytes=app.config["SYNC_MAX_BYTES"],
                    max_limit=app.config["SYNC_MAX_LIMIT"])
    for schema in (UserSchema, LoginSchema, ResidenceSchema, PasswordChangeSchema, DeviceSchema,
                   PushSubscriptionSchema, EventSchema, FollowUpSchema, TicketStepSchema, _TimelineSchema,
                   ChecklistTemplateSchema, _HealthSchema, _LoginAnswerSchema, _DevicesSchema, _PushKeySchema,
                   _SubscriptionsSchema, _NotificationsSchema, _FollowUpsSchema, SyncResponseSchema):
        spec.components.schema(_schema_name(schema), schema=schema)
    spec.components.schema("SyncRequest", schema=SyncRequestSchema(limits=limits))
    # The page size's bounds are this server's setting, checked by a validator apispec cannot read.
    spec.components.schemas["SyncRequest"]["properties"]["limit"].update(minimum=1, maximum=limits.max_limit)
    converter = plugin.converter
    for res in registry().values():
        _record_components(spec, converter, res)
    _paths(spec, app)
    return spec.to_dict()


# ---- record types -------------------------------------------------------------------------------

def _component(name: str) -> str:
    return "".join(part.capitalize() for part in name.split("_"))


def _ref(name: str) -> dict:
    return {"$ref": f"#/components/schemas/{name}"}


def _nullable(prop: dict) -> dict:
    if "$ref" in prop or "allOf" in prop:
        return {"anyOf": [prop, {"type": "null"}]}
    kind = prop.get("type")
    if kind is None or (isinstance(kind, list) and "null" in kind):
        return prop
    prop = dict(prop)
    prop["type"] = [*kind, "null"] if isinstance(kind, list) else [kind, "null"]
    if "enum" in prop and None not in prop["enum"]:
        prop["enum"] = [*prop["enum"], None]
    return prop


def _may_be_null(res: Resource, field: fields.Field, name: str) -> bool:
    """Whether the record as read may hold null here: the field allows it, or the model's column does."""
    if field.allow_none:
        return True
    column = sa.inspect(res.model).columns.get(field.attribute or name)
    return column is None or column.nullable


def _record_components(spec: APISpec, converter, res: Resource) -> None:
    name = _component(res.type)
    schema = res.wire
    whole = converter.schema2jsonschema(schema)
    props = whole["properties"]
    hidden = frozenset().union(*(rights.hidden for rights in res.rights.values()))
    # As read: every field the schema dumps, always present but those a role may not see.
    read_props = {}
    for field_name, field in schema.dump_fields.items():
        key = field.data_key or field_name
        prop = {k: v for k, v in props[key].items() if k not in ("writeOnly",)}
        read_props[key] = _nullable(prop) if _may_be_null(res, field, field_name) else prop
    read = {"type": "object", "properties": read_props,
            "required": sorted(k for k in read_props if k not in hidden)}
    if hidden:
        read["description"] = "有些角色看不到 / not shown to some roles: " + ", ".join(sorted(hidden))
    spec.components.schema(name, component=read)
    # As written: the fields the schema loads; dump-only ones are refused as unknown.
    load_props = {}
    for field_name, field in schema.load_fields.items():
        key = field.data_key or field_name
        load_props[key] = {k: v for k, v in props[key].items() if k not in ("writeOnly",)}
    required = [k for k in whole.get("required", []) if k in load_props]
    key_prop = ({"type": "string", "format": "uuid", "description": "客户端自选的 UUID / the id the client chose"}
                if res.key == "id" else
                {"type": "string", "minLength": 1, "maxLength": 36, "description": "目录编码 / the catalogue code"})
    new = {"type": "object", "properties": {res.key: key_prop, **copy.deepcopy(load_props)},
           "additionalProperties": False}
    if required or res.key != "id":
        new["required"] = sorted({*required, *([res.key] if res.key != "id" else [])})
    spec.components.schema(f"{name}New", component=new)
    changes = {"type": "object", "additionalProperties": False,
               "properties": {**copy.deepcopy(load_props), "version": {
                   "type": "integer", "description": "给出时，若记录已被他人改过则 409 / with it, 409 when "
                                                     "someone changed the record first"}}}
    spec.components.schema(f"{name}Changes", component=changes)


# ---- paths --------------------------------------------------------------------------------------

def _errors(*statuses: int) -> dict:
    return {str(s): {"$ref": f"#/components/responses/{ERRORS[s][0]}"} for s in sorted(set(statuses))}


def _json(schema: dict | str, description: str) -> dict:
    return {"description": description, "content": {JSON: {"schema": schema if isinstance(schema, dict)
                                                             else _ref(schema)}}}


def _body(schema: dict | str, required: bool = True) -> dict:
    return {"required": required, "content": {JSON: {"schema": schema if isinstance(schema, dict)
                                                     else _ref(schema)}}}


def _path_param(name: str, description: str) -> dict:
    return {"name": name, "in": "path", "required": True, "description": description,
            "schema": {"type": "string"}}


def _query(name: str, schema: dict, description: str) -> dict:
    return {"name": name, "in": "query", "required": False, "description": description, "schema": schema}


NO_CONTENT = {"description": "完成 / done (no body)"}
PUBLIC: list = []  # an operation's `security` when it needs no token


def _op(summary: str, tag: str, responses: dict, *, errors=(), body=None, params=(), public=False,
        description: str | None = None, open_while_password_must_change: bool = False) -> dict:
    gate = () if public or open_while_password_must_change else (403,)
    op: dict = {"summary": summary, "tags": [tag], "responses": {**responses, **_errors(
        *errors, *gate, *(() if public else AUTHENTICATED), *(WITH_BODY if body else ()))}}
    if description:
        op["description"] = description
    if params:
        op["parameters"] = list(params)
    if body:
        op["requestBody"] = body
    if public:
        op["security"] = PUBLIC
    return op


def _paths(spec: APISpec, app: Flask) -> None:
    path = spec.path
    path(path="/health", operations={"get": _op(
        "服务与数据库是否正常 / whether the server and its database answer", "system",
        {"200": _json("Health", "正常 / both answer")}, public=True, errors=(503,))})
    path(path="/openapi.json", operations={"get": _op(
        "本文档 / this document (OpenAPI 3.1)", "system",
        {"200": _json({"type": "object"}, "OpenAPI 3.1")}, public=True)})
    path(path="/docs", operations={"get": _op(
        "API 参考页面 / this reference, rendered", "system",
        {"200": {"description": "HTML", "content": {"text/html": {"schema": {"type": "string"}}}}},
        public=True)})
    path(path="/docs/{name}", operations={"get": _op(
        "参考页面的文件 / a file of the rendered reference (script, style sheet, icon)", "system",
        {"200": {"description": "the file", "content": {"*/*": {"schema": {"type": "string"}}}}},
        params=[_path_param("name", "file name")], public=True, errors=(404,))})

    # ---- who am I ----
    path(path="/auth/login", operations={"post": _op(
        "登录 / exchange a username and password for a device token", "auth",
        {"200": _json("LoginAnswer", "令牌（只显示这一次）与用户 / the token (shown this once) and the user")},
        body=_body("Login"), public=True, errors=(401, 429, 503),
        description="错误的用户名或密码都答 `401 invalid_credentials`；多次失败后 `429` 并带 `Retry-After`。 / "
                    "A wrong username or password is `401 invalid_credentials`; repeated failures `429` with "
                    "`Retry-After`.")})
    path(path="/auth/logout", operations={"post": _op(
        "注销本设备令牌 / revoke the token this request carries", "auth", {"204": NO_CONTENT},
        open_while_password_must_change=True)})
    path(path="/me", operations={
        "get": _op("当前用户 / the logged-in user", "auth", {"200": _json("User", "the user")},
                   open_while_password_must_change=True),
        "patch": _op("修改自己的设置（语言）/ change the user's own settings (language)", "auth",
                     {"200": _json("User", "the user")}, body=_body(_user_changes(spec)),
                     open_while_password_must_change=True)})
    path(path="/me/password", operations={"post": _op(
        "修改自己的密码 / set the user's own password", "auth",
        {"200": _json("User", "the user (`must_change_password` false now)")},
        body=_body("PasswordChange"), errors=(429,), open_while_password_must_change=True,
        description="当前密码错误答 `422`（字段 `current_password`，代码 `wrong_password`），并与登录失败一起计数："
                    "多次错误后 `429` 带 `Retry-After`。新密码至少 8 位且不同于当前密码。成功后本账号其他设备的令牌全部"
                    "失效（未发送的内容保留，重新登录即可），本设备保持登录；审计记录只记字段名 password，不记密码。 / "
                    "A wrong current password is `422` (field `current_password`, code `wrong_password`) and counts "
                    "with failed logins: repeated failures are `429` with `Retry-After`. The new one needs 8 "
                    "characters or more and must differ from the current one. Every other device of the user is "
                    "logged out (they keep what is unsent and log in again); this one stays. The audit trail "
                    "names the field `password`, never the value.")})
    path(path="/me/devices", operations={"get": _op(
        "本账号登录的设备 / the devices logged in as this user", "auth", {"200": _json("Devices", "live devices")})})
    path(path="/me/devices/{device_id}", operations={"delete": _op(
        "注销自己的一台设备 / revoke one of the user's own devices", "auth", {"204": NO_CONTENT},
        params=[_path_param("device_id", "the device")], errors=(404,))})
    path(path="/users/{user_id}/household", operations={"put": _op(
        "住户搬家或搬出（主管）/ a resident moves to another household, or out (supervisors)", "auth",
        {"200": _json("User", "the resident")}, body=_body("Residence"),
        params=[_path_param("user_id", "the resident")], errors=(403, 404))})

    # ---- sync ----
    path(path="/sync", operations={"post": _op(
        "同步：推送修改，再拉取变化 / push mutations, then pull changes since the cursor", "sync",
        {"200": _json("SyncResponse", "每条修改的结果与一页变化 / a result per mutation, and one page of changes")},
        body=_body("SyncRequest"), errors=(413, 422, 426),
        description="整个请求被拒时什么都不会应用。协议全文见 docs/sync-protocol.md。 / A request refused as a "
                    "whole applies nothing. The full protocol: docs/sync-protocol.md.")})

    # ---- visits ----
    path(path="/visit-template", operations={
        "get": _op("本小区的入户检查清单 / the community's visit checklist", "visits",
                   {"200": _json("ChecklistTemplate", "the checklist")}, errors=(403,)),
        "put": _op("替换入户检查清单（主管）/ replace the checklist (supervisors)", "visits",
                   {"200": _json("ChecklistTemplate", "the new checklist")}, body=_body("ChecklistTemplate"),
                   errors=(403,))})

    # ---- notifications ----
    path(path="/push/key", operations={"get": _op(
        "Web Push 公钥 / the VAPID public key browsers subscribe with", "notifications",
        {"200": _json("PushKey", "the key")}, public=True, errors=(503,))})
    path(path="/push/subscriptions", operations={
        "post": _op("登记本浏览器的推送订阅 / register this browser's push subscription", "notifications",
                    {"201": _json("PushSubscription", "新订阅 / new"),
                     "200": _json("PushSubscription", "已登记过 / known already")},
                    body=_body("PushSubscription")),
        "get": _op("我的推送订阅 / the user's push subscriptions", "notifications",
                   {"200": _json("PushSubscriptions", "subscriptions")})})
    path(path="/push/subscriptions/{subscription_id}", operations={"delete": _op(
        "删除推送订阅 / remove a push subscription", "notifications", {"204": NO_CONTENT},
        params=[_path_param("subscription_id", "the subscription")], errors=(404,))})
    path(path="/notifications", operations={"get": _op(
        "打开的应用的长轮询 / the open app's long poll", "notifications",
        {"200": _json("Notifications", "游标之后的事件（最多 50 条）/ the events after the cursor (at most 50)")},
        params=[_query("after", {"type": "string"}, "上次答复的游标（不透明）；不给则只答起始游标 / the cursor "
                                                   "of the last answer (opaque); without it, only where to start"),
                _query("wait", {"type": "number"}, "最长等待秒数 / longest wait in seconds (at most "
                                                   f"{app.config['LONG_POLL_SECONDS']})")],
        errors=(422,))})

    # ---- a ticket's timeline ----
    path(path="/tickets/{ticket_id}/timeline", operations={"get": _op(
        "工单处理记录 / a ticket's timeline, oldest first", "tickets",
        {"200": _json("TicketTimeline", "状态、交接（班组、原因）、评价、升级 / status changes, hand-offs "
                                        "(team, reason), ratings, escalations")},
        params=[_path_param("ticket_id", "the ticket")], errors=(403, 404))})

    # ---- 回访 ----
    path(path="/follow-ups", operations={"get": _op(
        "回访任务（主管）/ 回访 tasks (supervisors)", "tickets", {"200": _json("FollowUps", "tasks")},
        params=[_query("status", {"type": "string", "enum": list(FOLLOW_UP_STATES)}, "只看此状态 / only this status")],
        errors=(403, 422))})
    path(path="/follow-ups/{follow_up_id}", operations={"patch": _op(
        "完成回访任务 / settle a 回访 task", "tickets", {"200": _json("FollowUp", "the task")},
        body=_body(_follow_up_changes(spec)), params=[_path_param("follow_up_id", "the task")], errors=(403, 404))})

    _joining_paths(spec)
    _team_people_paths(spec)
    _attachment_paths(spec)
    for res in registry().values():
        _collection(spec, res)


def _joining_paths(spec: APISpec) -> None:
    """Invites, joining a household, requests to join, a household's residents (server/joining)."""
    for schema in (joining.InviteSchema, joining.IssuedInviteSchema, joining.InvitesSchema, joining.JoinAnswerSchema,
                   joining.CommunitiesSchema, joining.AddressesSchema, joining.JoinRequestSchema,
                   joining.JoinRequestAnswerSchema, joining.PendingRequestsSchema, joining.HousematesSchema):
        spec.components.schema(_schema_name(schema), schema=schema)
    for schema in (joining.InviteNewSchema, joining.JoinSchema, joining.JoinRequestNewSchema, joining.DecisionSchema):
        spec.components.schema(_schema_name(schema), schema=schema)
    path = spec.path
    path(path="/invites", operations={
        "post": _op("为住户生成一次性邀请码（管家、主管）/ issue a one-time invite to a household (butlers: their "
                    "grids; supervisors: their community)", "joining",
                    {"201": _json("IssuedInvite", "邀请码、链接与二维码（只显示这一次）/ the code, link and QR code "
                                                  "(shown this once)")},
                    body=_body("InviteNew"), errors=(403, 404),
                    description="7 天内有效，只能用一次，可撤销；数据库只存其哈希。 / Valid 7 days, single use, "
                                "revocable; only a keyed hash is stored."),
        "get": _op("住户仍可用的邀请（不含邀请码）/ a household's invites still usable (never their codes)", "joining",
                   {"200": _json("Invites", "the invites")},
                   params=[_query("household_id", {"type": "string"}, "住户 / the household (required)")],
                   errors=(403, 404, 422))})
    path(path="/invites/{invite_id}", operations={"delete": _op(
        "撤销邀请 / revoke an invite", "joining", {"204": NO_CONTENT},
        params=[_path_param("invite_id", "the invite")], errors=(403, 404))})
    path(path="/join", operations={"post": _op(
        "用邀请码注册并登录 / use an invite: a new resident account, bound to its household, logged in", "joining",
        {"200": _json("JoinAnswer", "令牌（只显示这一次）与新用户 / the token (shown this once) and the new user")},
        body=_body("Join"), public=True, errors=(404, 429, 503),
        description="无法使用的邀请码（未知、过期、已用、已撤销）一律答 `404 invite_invalid`；多次失败后按地址和邀请码 "
                    "`429`。 / Any code that cannot be used is `404 invite_invalid`, whatever the reason; repeated "
                    "failures are `429` per address and per code.")})
    path(path="/join/communities", operations={"get": _op(
        "可申请入住的小区（只有名称）/ the communities one may ask to join (names only)", "joining",
        {"200": _json("Communities", "the communities")}, public=True, errors=(503,))})
    path(path="/join/communities/{community_id}", operations={"get": _op(
        "小区的楼栋、单元与房号（不含住户信息）/ a community's buildings, units and rooms (no one's name)", "joining",
        {"200": _json("Addresses", "the structure")}, params=[_path_param("community_id", "the community")],
        public=True, errors=(404, 503))})
    path(path="/join/requests", operations={"post": _op(
        "没有邀请码时申请入住 / ask to join a household without an invite", "joining",
        {"201": _json("JoinRequestAnswer", "新账号的令牌与待审核的申请 / the new account's token and its pending "
                                           "request")},
        body=_body("JoinRequestNew"), public=True, errors=(429, 503),
        description="账号可以登录，但在管家同意前只能看到申请状态。按地址限流。 / The account can log in but sees "
                    "only its request until the butler approves it. Throttled per address.")})
    path(path="/me/join-request", operations={"get": _op(
        "我的入住申请 / the user's own latest request to join", "joining",
        {"200": _json("JoinRequest", "the request")}, errors=(404,))})
    path(path="/join-requests", operations={"get": _op(
        "待审核的入住申请（管家：自己的网格；主管：本小区）/ requests to join waiting for a decision", "joining",
        {"200": _json("PendingRequests", "the requests")}, errors=(403,))})
    path(path="/join-requests/{request_id}/decision", operations={"post": _op(
        "同意或拒绝入住申请 / approve or refuse a request to join", "joining",
        {"200": _json("JoinRequest", "the request, decided")}, body=_body("Decision"),
        params=[_path_param("request_id", "the request")], errors=(403, 404, 409),
        description="拒绝时须写明原因；已处理过的申请答 409。 / A refusal needs a reason; a request already "
                    "decided is a 409.")})
    path(path="/me/household/residents", operations={"get": _op(
        "我家的住户及其身份 / the residents of the user's household, with their roles", "joining",
        {"200": _json("Housemates", "the residents")}, errors=(403,))})
    path(path="/me/household/residents/{user_id}", operations={"delete": _op(
        "业主移除家庭成员或租户 / an owner removes a family member or tenant", "joining", {"204": NO_CONTENT},
        params=[_path_param("user_id", "the resident")], errors=(403, 404))})


def _team_people_paths(spec: APISpec) -> None:
    """Who works in a team: members, technician accounts, deactivation (server/teams/people.py)."""
    for schema in (team_people.TechnicianSchema, team_people.TechnicianNewSchema, team_people.NewTechnicianSchema,
                   team_people.TeamMembersSchema, team_people.MemberNewSchema, team_people.DeactivationSchema,
                   team_people.JobsReturnedSchema):
        spec.components.schema(_schema_name(schema), schema=schema)
    path = spec.path
    team = _path_param("team_id", "the team")
    path(path="/teams/{team_id}/members", operations={
        "get": _op("班组成员（主管：本小区）/ a team's active technicians (supervisors: their community)", "teams",
                   {"200": _json("TeamMembers", "the members")}, params=[team], errors=(403, 404)),
        "post": _op("把技工调入班组 / put a technician of the community in the team", "teams",
                    {"200": _json("TeamMembers", "the members now")}, body=_body("MemberNew"), params=[team],
                    errors=(403, 404),
                    description="技工原班组手上未完成的工单退回原班组的抢单池。 / The open jobs they held for another "
                                "team go back to that team's pool.")})
    path(path="/teams/{team_id}/members/{user_id}", operations={"delete": _op(
        "把技工移出班组 / take a technician out of the team", "teams", {"204": NO_CONTENT},
        params=[team, _path_param("user_id", "the technician")], errors=(403, 404),
        description="其手上未完成的工单退回班组的抢单池并注明原因。 / The open jobs in their hands go back to the "
                    "team's pool, with a note.")})
    path(path="/teams/{team_id}/technicians", operations={"post": _op(
        "新建技工账号 / a new technician account in the team", "teams",
        {"201": _json("NewTechnician", "账号与一次性初始密码（只显示这一次）/ the account and its one-time initial "
                                      "password (shown this once)")},
        body=_body("TechnicianNew"), params=[team], errors=(403, 404),
        description="数据库只存密码的哈希；本人首次登录须先设置自己的密码（`must_change_password`）。 / Only the "
                    "password's hash is stored; at the first login the technician sets their own "
                    "(`must_change_password`).")})
    path(path="/teams/technicians/{user_id}/password", operations={"post": _op(
        "重置技工密码 / a new one-time password for a technician", "teams",
        {"200": _json("NewTechnician", "账号与新的一次性密码（只显示这一次）/ the account and its new one-time "
                                      "password (shown this once)")},
        params=[_path_param("user_id", "the technician")], errors=(403, 404, 422),
        description="其设备全部退出登录，未同步的记录保留；下次登录须先设置自己的密码（`must_change_password`）。 / "
                    "Every device of theirs is logged out; what they have not sent stays. At their next login "
                    "they set their own password first (`must_change_password`).")})
    path(path="/teams/technicians/{user_id}/deactivation", operations={"post": _op(
        "停用技工账号 / deactivate a technician", "teams",
        {"200": _json("JobsReturned", "账号与退回班组的工单数 / the account and how many jobs went back")},
        body=_body("Deactivation"), params=[_path_param("user_id", "the technician")], errors=(403, 404),
        description="未完成的工单带原因退回班组抢单池；其设备全部注销。 / Open jobs go back to the team's pool "
                    "with the reason; every device of theirs is revoked.")})


def _attachment_paths(spec: APISpec) -> None:
    """A photo's bytes: the resumable upload by hash, and reading them (server/attachments/api.py)."""
    spec.components.schema(_schema_name(UploadStateSchema), schema=UploadStateSchema)
    path = spec.path
    sha256 = {"name": "sha256", "in": "path", "required": True,
              "description": "照片内容的 SHA-256（64 位小写十六进制）/ the bytes' SHA-256, 64 lowercase hex digits",
              "schema": {"type": "string", "pattern": "^[0-9a-f]{64}$"}}
    offset_header = {"Upload-Offset": {"description": "服务器已收到的字节数 / the bytes the server has",
                                       "schema": {"type": "string", "pattern": "^[0-9]+$"}}}
    state = {**_json("UploadState", "上传进度 / where the upload stands"), "headers": offset_header}
    seen_by = ("须能看到至少一条以此哈希命名的照片记录（否则 404）。 / The caller must see a photo record naming "
               "these bytes (404 otherwise).")
    path(path="/uploads/{sha256}", operations={
        "get": _op("照片上传进度 / how much of a photo's bytes the server has", "attachments", {"200": state},
                   params=[sha256], errors=(404, 422),
                   description=f"`complete: true`：已在服务器，无需再传。 / `complete`: here already, nothing to "
                               f"send. {seen_by}"),
        "patch": _op(
            "上传照片的下一段 / the next piece of a photo's bytes (tus 1.0 core, by hash)", "attachments",
            {"200": state, "409": {"$ref": "#/components/responses/Conflict"}},
            params=[sha256,
                    {"name": "Upload-Offset", "in": "header", "required": True,
                     "description": "此段的起点 / where this piece starts",
                     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}},
                    {"name": "Upload-Length", "in": "header", "required": True,
                     "description": f"整个文件的字节数（照片记录的 `size`，最多 {MAX_PHOTO_BYTES} 字节）/ the "
                                    f"whole file's bytes (the record's `size`)",
                     "schema": {"type": "string", "pattern": "^[0-9]{1,12}$"}}],
            body={"required": True, "content": {"application/offset+octet-stream": {
                "schema": {"type": "string", "contentMediaType": "application/octet-stream",
                           "maxLength": MAX_CHUNK_BYTES}}}},
            errors=(404, 413, 415, 422),
            description="一段最多 1 MB。位置不对：409 `upload_offset_mismatch`，`details.offset` 与头 "
                        "`Upload-Offset` 给出从哪里继续。最后一段到齐后校验 SHA-256 与图片（422 "
                        "`hash_mismatch`、`not_an_image`、`image_too_large`、`image_has_location`），被拒则什么"
                        "都不留。 / At most 1 MB a piece. At another offset than the server's: 409 "
                        "`upload_offset_mismatch`, with `details.offset` and the header `Upload-Offset` to go on "
                        f"from. Once whole, the hash and the image are checked (at most "
                        f"{attachment_images.MAX_PIXELS} pixels, no location); a refused upload leaves nothing. "
                        f"{seen_by}")})
    binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
    path(path="/attachments/{attachment_id}/content", operations={"get": _op(
        "照片内容 / a photo's bytes, or its thumbnail", "attachments",
        {"200": {"description": "图片（不缓存）/ the image (`Cache-Control: no-store`)",
                 "content": {"image/jpeg": binary, "image/png": binary, "image/webp": binary}}},
        params=[_path_param("attachment_id", "the photo (attachment record)"),
                _query("size", {"type": "string", "enum": ["thumb", "full"], "default": "full"},
                       "thumb：320 像素的 JPEG / `thumb`: a 320 px JPEG; `full`: the bytes as taken")],
        errors=(403, 404, 422),
        description="与照片所属记录同一范围；每次读取记入审计。未上传完：404 `attachment_pending`（照片上传中）。 / "
                    "Through the record's scope; each read is in the audit trail. Bytes not here yet: 404 "
                    "`attachment_pending`.")})


def _user_changes(spec: APISpec) -> dict:
    user = spec.components.schemas["User"]
    return {"type": "object", "additionalProperties": False,
            "properties": {name: prop for name, prop in user["properties"].items() if not prop.get("readOnly")}}


def _follow_up_changes(spec: APISpec) -> dict:
    task = spec.components.schemas["FollowUp"]
    return {"type": "object", "additionalProperties": False,
            "properties": {name: prop for name, prop in task["properties"].items() if not prop.get("readOnly")}}


def _filter_schema(prop: dict) -> dict:
    """A filter's query parameter: its field's schema as read, less what a query string cannot be
    (null) and what only describes the record (read-only)."""
    found = {k: v for k, v in prop.items() if k not in ("readOnly", "description")}
    if isinstance(found.get("type"), list):
        found["type"] = next(t for t in found["type"] if t != "null")
    if "enum" in found:
        found["enum"] = [v for v in found["enum"] if v is not None]
    return found


def _collection(spec: APISpec, res: Resource) -> None:
    name = _component(res.type)
    tag = res.plural
    id_param = _path_param("record_id", "记录 id / the record's id"
                           + (" (its catalogue code)" if res.key != "id" else ""))
    fields_read = spec.components.schemas[name]["properties"]
    filters = [_query(f, _filter_schema(fields_read[f]), "等于 / equal to") for f in res.filters]
    page = {"type": "object", "required": ["items", "next"], "properties": {
        "items": {"type": "array", "items": _ref(name)},
        "next": {"type": ["string", "null"], "description": "下一页的 `after`；最后一页为 null / `after` for the "
                                                            "next page; null on the last"}}}
    spec.path(path=f"/{res.plural}", operations={
        "get": _op(f"列出 {res.plural}（按 id 分页）/ list, paged by id", tag,
                   {"200": _json(page, "一页记录 / one page")},
                   params=[*filters,
                           _query("limit", {"type": "integer", "minimum": 1, "maximum": MAX_PAGE},
                                  f"每页条数（1–{MAX_PAGE}，默认 100）/ page size (1–{MAX_PAGE}, default 100)"),
                           _query("after", {"type": "string", "maxLength": MAX_ID_LENGTH},
                                  "上一页的 `next` / the `next` of the last page")],
                   errors=(422,), description="其他查询参数一律 422 / any other query parameter is a 422."),
        "post": _op(f"新建 {res.type} / create one", tag, {"201": _json(name, "新记录 / the new record")},
                    body=_body(f"{name}New"), errors=(403, 404, 409))})
    spec.path(path=f"/{res.plural}/{{record_id}}", operations={
        "get": _op(f"读取一条 {res.type} / read one", tag, {"200": _json(name, "the record")},
                   params=[id_param], errors=(403, 404)),
        "patch": _op(f"修改 {res.type} 的字段 / change some fields", tag, {"200": _json(name, "the record")},
                     body=_body(f"{name}Changes"), params=[id_param], errors=(403, 404, 409)),
        "delete": _op(f"删除 {res.type}（留下墓碑）/ delete (a tombstone stays for the phones)", tag,
                      {"204": NO_CONTENT},
                      params=[id_param, _query("version", {"type": "integer", "minimum": 0}, "给出时，若记录已被他人改过则 409 / "
                                                                               "with it, 409 when changed since")],
                      errors=(403, 404, 409, 422))})


_DESCRIPTION = """\
睿管家的 HTTP 接口：管家、住户与主管的应用都用它。除登录、健康检查与公钥外，每个请求都要带
`Authorization: Bearer <令牌>`。错误只有一种形状（`Error`），消息用调用者的语言（`Accept-Language`，
否则用户的设置，否则 zh-CN）。

The HTTP API of Guanjia, used by the butlers', residents' and supervisors' apps. Every request but
login, health and the push key carries `Authorization: Bearer <token>`. Every error has one shape
(`Error`), its message in the caller's language (`Accept-Language`, else the user's setting, else
zh-CN). Every read and write passes the scope rules: a butler sees the households of their grids, a
resident their own household, a supervisor their community, an administrator everything.
"""
