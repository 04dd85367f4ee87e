"""Every human-readable message the API sends, in Simplified Chinese first and English second."""
from __future__ import annotations

LANGUAGES = ("zh-CN", "en")
DEFAULT_LANGUAGE = "zh-CN"

# Errors of a whole request: error code -> (zh-CN, en).
ERRORS: dict[str, tuple[str, str]] = {
    "malformed_json": ("请求内容不是有效的 JSON。", "The request body is not valid JSON."),
    "bad_request": ("请求无效。", "The request is not valid."),
    "unauthorized": ("请先登录。", "Please log in."),
    "invalid_token": ("登录已失效，请重新登录。", "Your session has ended; please log in again."),
    "device_revoked": ("此设备已被注销，本机上的数据已清除。请重新登录。",
                       "This device was revoked and its local data deleted. Please log in again."),
    "invalid_credentials": ("用户名或密码不正确。", "Wrong username or password."),
    "too_many_attempts": ("登录失败次数过多，请 {retry_after} 秒后再试。",
                          "Too many failed logins; try again in {retry_after} seconds."),
    "too_many_logins": ("登录过于频繁，请 {retry_after} 秒后再试。",
                        "Too many logins; try again in {retry_after} seconds."),
    "too_many_password_attempts": ("密码输错次数过多，请 {retry_after} 秒后再试。",
                                   "Too many wrong passwords; try again in {retry_after} seconds."),
    "invite_invalid": ("邀请码无效或已失效。请核对后重试，或向您的管家索取新的邀请码。",
                       "This invite code cannot be used. Check it, or ask your butler for a new one."),
    "too_many_join_attempts": ("尝试次数过多，请 {retry_after} 秒后再试。",
                               "Too many attempts; try again in {retry_after} seconds."),
    "forbidden": ("您无权访问此内容。", "You are not allowed to access this."),
    "password_change_required": ("请先修改密码：您的密码是主管设置的，请设置一个只有您自己知道的密码后再继续。"
                                 "手机上未发送的内容会保留。",
                                 "Please set your own password first: a supervisor chose the one you have. "
                                 "Nothing unsent on your phone is lost."),
    "not_found": ("找不到该内容。", "Not found."),
    "method_not_allowed": ("不支持此操作。", "This method is not allowed here."),
    "stale_version": ("该记录已被他人修改，请刷新后再试。",
                      "Someone else changed this record; reload it and try again."),
    "already_exists": ("该记录已存在。", "This record already exists."),
    "too_large": ("请求内容过大。", "The request is too large."),
    "validation_failed": ("提交的内容有误，请检查后重试。", "Some fields are not valid; please check them."),
    "db_unavailable": ("数据库暂时不可用，请稍后再试。", "The database is unavailable; try again later."),
    "storage_full": ("服务器存储空间已满，数据未保存；手机会保留并稍后重发，请联系管理员。",
                     "The server's storage is full; nothing was saved. The phone keeps it and sends it again later; tell the administrator."),
    "server_busy": ("服务器繁忙，请稍后再试；未发送的内容会自动重发。",
                    "The server is busy; try again shortly. Nothing unsent is lost."),
    "internal_error": ("服务器出错了，请稍后再试。", "Something went wrong on the server; try again later."),
    "unsupported_media_type": ("请以 JSON 格式提交。", "Send the request body as JSON."),
    "too_many_mutations": ("一次同步的修改过多（最多 {max_mutations} 条），请分批发送。",
                           "Too many changes in one sync (at most {max_mutations}); send them in batches."),
    "push_unavailable": ("此服务器未开启推送通知，应用内提醒照常工作。",
                         "Push notifications are not set up on this server; in-app alerts still work."),
    "client_outdated": ("应用版本过旧，正在更新，未发送的内容会保留。",
                        "This app is out of date; it will update itself and keep what is unsent."),
    "upload_offset_mismatch": ("上传位置不对：服务器已收到 {offset} 字节，请从那里继续。",
                               "The upload is at {offset} bytes on the server; continue from there."),
    "attachment_pending": ("照片上传中，还没有到服务器。", "The photo is still being uploaded."),
    "photo_too_large": ("照片太大（最多 {max_mb} MB）。", "The photo is too large (at most {max_mb} MB)."),
    "unsupported_upload_type": ("请以 application/offset+octet-stream 上传照片内容。",
                                "Send the photo's bytes as application/offset+octet-stream."),
}

# Addresses the server posts to (push endpoints, webhooks).
HTTPS_REQUIRED = ("{label}必须使用 https。", "{label} must use https.")
DEFAULT_PORT_ONLY = ("{label}只能使用默认端口（https 为 443）。", "{label} must use the default port (443 for https).")

# Problems with one field: code -> (zh-CN, en); {label} is the field's name in that language.
FIELD_ERRORS: dict[str, tuple[str, str]] = {
    "required": ("{label}为必填项。", "{label} is required."),
    "null": ("{label}不能为空。", "{label} may not be empty."),
    "invalid_type": ("{label}的格式不正确。", "{label} has the wrong type or format."),
    "unknown_field": ("不能提交字段 {field}。", "The field {field} cannot be sent."),
    "invalid_choice": ("{label}必须是以下之一：{choices}。", "{label} must be one of: {choices}."),
    "out_of_range": ("{label}必须在 {min}–{max} 之间。", "{label} must be between {min} and {max}."),
    "push_host_not_allowed": ("{label}不是允许的推送服务地址。", "{label} is not on an allowed push service."),
    "push_https_required": HTTPS_REQUIRED,
    "push_port_not_allowed": DEFAULT_PORT_ONLY,
    "webhook_host_not_allowed": ("{label}的主机不在允许的 webhook 主机之列（GUANJIA_WEBHOOK_ALLOWED_HOSTS）。",
                                 "{label} is not on a host allowed for webhooks (GUANJIA_WEBHOOK_ALLOWED_HOSTS)."),
    "webhook_https_required": HTTPS_REQUIRED,
    "webhook_port_not_allowed": DEFAULT_PORT_ONLY,
    "invalid_push_key": ("{label}不是有效的推送密钥。", "{label} is not a valid push key."),
    "wrong_password": ("当前密码不正确。", "The current password is not correct."),
    "unchanged": ("新密码不能与当前密码相同。", "The new password must differ from the current one."),
    "too_short": ("{label}至少需要 {min} 个字符。", "{label} must be at least {min} characters long."),
    "too_long": ("{label}不能超过 {max} 个字符。", "{label} may be at most {max} characters long."),
    "invalid_character": ("{label}含有不允许的字符（NUL）。", "{label} holds a character that is not allowed (NUL)."),
    "invalid_unicode": ("{label}含有残缺的字符（不成对的 Unicode 代理项），请删除后重新输入。",
                        "{label} holds a broken character (half of an emoji or other symbol); delete it and type it again."),
    "not_storable": ("这条记录无法保存，已单独退回，其余内容照常同步。请检查后修改再发送。",
                     "This record could not be stored; it was set aside and everything else synced. Check it and send it again."),
    "invalid_phone": ("{label}格式不正确。", "{label} is not a valid phone number."),
    "already_exists": ("这条记录已经存在。", "This record already exists."),
    "consent_required": ("住户未同意保存个人信息，不能填写{label}。",
                         "The person has not agreed to their information being kept; {label} cannot be stored."),
    "not_writable": ("您不能修改{label}。", "You may not change {label}."),
    "out_of_scope": ("{label}不在您的管辖范围内。", "{label} is outside what you may access."),
    "not_found": ("{label}指向的记录不存在。", "{label} refers to a record that does not exist."),
    "invalid_transition": ("工单不能从“{from_status}”变为“{to_status}”。",
                           "A ticket cannot go from {from_status} to {to_status}."),
    "already_claimed": ("该工单已被他人接单。", "Someone else has already taken this ticket."),
    "not_open": ("工单已完成或已取消，不能再转交。", "The ticket is finished or cancelled; it cannot be handed on."),
    "not_holder": ("这张工单不在您手上，不能转派或退回。", "This ticket is not in your hands; you cannot pass it on or return it."),
    "reason_required": ("退回工单时请写明原因。", "Please give a reason for returning the ticket."),
    "not_with_hand_off": ("转交工单时不能同时修改状态或只改说明。",
                          "Handing a ticket on cannot change its status too, nor only its note."),
    "not_rateable": ("工单完成后才能评价。", "A ticket can be rated only once it is resolved."),
    "duplicate": ("{label}已存在。", "{label} already exists."),
    "key_out": ("这把钥匙已借出，请先登记归还。", "This key is signed out; sign it back in first."),
    "key_in": ("这把钥匙没有借出。", "This key is not signed out."),
    "invalid": ("{label}无效。", "{label} is not valid."),
    "inactive": ("{label}已停用。", "{label} has been deactivated already."),
    "team_not_empty": ("班组还有成员或未完成的工单：请先移出成员、转派工单。",
                       "The team still has members or open jobs: move them out and hand the jobs on first."),
    "forbidden": ("您无权修改这条记录。", "You may not change this record."),
    "changed_since_seen": ("这条记录在您上次同步后被他人修改过，请查看后再删除。",
                           "Someone changed this record since you last synced; review it before deleting."),
    "record_deleted": ("这条记录已被删除。", "This record has been deleted."),
    "changed_since_conflict": ("冲突之后{label}又被修改过，请查看现在的值；选择现在的值即可关闭冲突。",
                               "{label} changed again after the conflict; review its current value, and choose it to close the conflict."),
    "already_settled": ("这个冲突已经处理过了。", "This conflict has already been settled."),
    "in_future": ("{label}比服务器时间晚了 {minutes} 分钟以上，请检查手机的日期和时间设置。",
                  "{label} is more than {minutes} minutes ahead of the server's clock; check the phone's date and time."),
    "too_old": ("{label}早于 {days} 天前，不能再提交。", "{label} is more than {days} days ago; it can no longer be sent."),
    "hash_mismatch": ("照片内容与它的校验值（SHA-256）不符，请重新上传。",
                      "The photo's bytes do not match its SHA-256; upload it again."),
    "not_an_image": ("这不是可以接收的图片（只收 JPEG、WebP、PNG）。",
                     "This is not an image the server takes (JPEG, WebP or PNG only)."),
    "image_too_large": ("图片像素过多（最多 {max} 像素）。", "The image has too many pixels (at most {max})."),
    "image_has_location": ("照片还带有拍摄位置信息，请用应用重新拍摄或选择。",
                           "The photo still carries its location; take or pick it again in the app."),
    "length_mismatch": ("{label}与照片记录的大小不符。", "{label} does not match the photo's recorded size."),
    "not_attachable": ("{label}不能添加照片。", "Photos cannot be attached to {label}."),
    "invalid_timezone": ("{label}必须是 IANA 时区名称，例如 Asia/Shanghai。",
                         "{label} must be an IANA time zone name, such as Asia/Shanghai."),
}

# Field names as people read them: wire name -> (zh-CN, en).
LABELS: dict[str, tuple[str, str]] = {
    "id": ("编号", "ID"),
    "name": ("名称", "Name"),
    "city": ("城市", "City"),
    "community_id": ("小区", "Community"),
    "grid_id": ("网格", "Grid"),
    "butler_id": ("管家", "Butler"),
    "household_id": ("住户", "Household"),
    "items": ("检查项", "Checklist items"),
    "building": ("楼栋", "Building"),
    "unit": ("单元", "Entrance"),
    "room": ("房号", "Room"),
    "status": ("状态", "Status"),
    "area_m2": ("面积", "Area"),
    "tags": ("标签", "Tags"),
    "notes": ("备注", "Notes"),
    "visit_cycle_days": ("走访周期", "Visit cycle"),
    "relation": ("关系", "Relation"),
    "phone": ("手机号码", "Phone number"),
    "birth_year": ("出生年份", "Year of birth"),
    "consent": ("信息保存同意", "Consent"),
    "visited_at": ("走访时间", "Visit time"),
    "owner_name": ("业主姓名", "Owner's name"),
    "start_date": ("开始日期", "Start date"),
    "end_date": ("结束日期", "End date"),
    "services": ("托管服务", "Custody services"),
    "inspection_every_days": ("巡查周期", "Inspection cycle"),
    "contract_id": ("托管合同", "Custody contract"),
    "inspected_at": ("巡查时间", "Inspection time"),
    "done": ("处理情况", "What was done"),
    "key": ("钥匙", "Key"),
    "label": ("钥匙名称", "Key name"),
    "holder": ("保管人", "Kept by"),
    "person": ("借用人", "Signed out to"),
    "days": ("有效天数", "Days valid"),
    "kind": ("走访类型", "Visit kind"),
    "checklist": ("检查项", "Checklist"),
    "needs": ("需求", "Needs"),
    "satisfaction": ("满意度", "Satisfaction"),
    "products_interest": ("意向产品", "Products of interest"),
    "follow_up_at": ("回访日期", "Follow-up date"),
    "at": ("时间", "Time"),
    "channel": ("渠道", "Channel"),
    "summary": ("摘要", "Summary"),
    "raised_by": ("报事人", "Raised by"),
    "category": ("类别", "Category"),
    "description": ("描述", "Description"),
    "assignee_id": ("处理人", "Assignee"),
    "team_id": ("处理班组", "Team"),
    "handoff_note": ("转交说明", "Hand-off note"),
    "resolution_note": ("处理说明", "Resolution note"),
    "rating": ("评分", "Rating"),
    "rating_comment": ("评价内容", "Rating comment"),
    "backoffice_rating": ("后台能力评价", "Back-office rating"),
    "code": ("产品编码", "Product code"),
    "product_code": ("产品", "Product"),
    "price": ("价格", "Price"),
    "quantity": ("数量", "Quantity"),
    "note": ("备注", "Note"),
    "recommended_by": ("推荐人", "Recommended by"),
    "title": ("标题", "Title"),
    "body": ("正文", "Text"),
    "published_at": ("发布时间", "Published"),
    "timezone": ("时区", "Time zone"),
    "endpoint": ("推送地址", "Push endpoint"),
    "url": ("网址", "URL"),
    "keys": ("推送密钥", "Push keys"),
    "keys.p256dh": ("推送公钥", "Push public key"),
    "keys.auth": ("推送认证密钥", "Push auth secret"),
    "after": ("游标", "Cursor"),
    "wait": ("等待时间", "Wait"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "current_password": ("当前密码", "Current password"),
    "new_password": ("新密码", "New password"),
    "version": ("版本", "Version"),
    "chosen": ("选定的值", "Chosen value"),
    "type": ("记录类型", "Record type"),
    "op": ("操作", "Operation"),
    "mid": ("修改编号", "Mutation ID"),
    "base": ("基础版本", "Base version"),
    "fields": ("字段", "Fields"),
    "client_id": ("客户端编号", "Client ID"),
    "schema": ("数据版本", "Schema version"),
    "cursor": ("同步位置", "Cursor"),
    "limit": ("每页数量", "Page size"),
    "mutations": ("修改", "Mutations"),
    "household_role": ("住户身份", "Role in the household"),
    "invite_code": ("邀请码", "Invite code"),
    "owner_name": ("业主姓名", "Owner's name"),
    "reason": ("原因", "Reason"),
    "approve": ("是否同意", "Approve"),
    "user_id": ("账号", "Account"),
    "device_name": ("设备名称", "Device name"),
    "_schema": ("请求内容", "Request body"),
    "content": ("照片内容", "Photo"),
    "record_type": ("记录类型", "Record type"),
    "record_id": ("所属记录", "Record"),
    "sha256": ("校验值", "SHA-256"),
    "Upload-Offset": ("上传位置", "Upload offset"),
    "Upload-Length": ("上传大小", "Upload length"),
}


# Ticket states as people say them, for messages that name a state.
# Back-office teams by their work (server/teams).
TEAM_KINDS: dict[str, tuple[str, str]] = {
    "engineering": ("工程维修", "Engineering"),
    "cleaning": ("保洁", "Cleaning"),
    "security": ("秩序安保", "Security"),
    "vendor": ("外委", "Vendor"),
}

TICKET_STATES: dict[str, tuple[str, str]] = {
    "new": ("新建", "new"),
    "dispatched": ("已派单", "dispatched"),
    "accepted": ("已接单", "accepted"),
    "in_progress": ("处理中", "in progress"),
    "resolved": ("已解决", "resolved"),
    "closed": ("已关闭", "closed"),
    "cancelled": ("已取消", "cancelled"),
}


def pick(pair: tuple[str, str], language: str) -> str:
    return pair[1] if language == "en" else pair[0]


def label(field: str, language: str) -> str:
    """A field's name for people; falls back to the wire name."""
    base = field.rsplit(".", 1)[-1] if field.startswith("mutations.") else field.split(".", 1)[0]
    return pick(LABELS[base], language) if base in LABELS else field


def error_message(code: str, language: str, **params) -> str:
    template = pick(ERRORS.get(code, ERRORS["bad_request"]), language)
    return fill_in(template, params)


def field_error_message(code: str, field: str, language: str, **params) -> str:
    template = pick(FIELD_ERRORS.get(code, FIELD_ERRORS["invalid"]), language)
    for name in ("from_status", "to_status"):
        if params.get(name) in TICKET_STATES:
            params[name] = pick(TICKET_STATES[params[name]], language)
    return fill_in(template, {"label": label(field, language), "field": field, **params})


def fill_in(template: str, params: dict) -> str:
    """The template's {names} filled in from params; the template as it is when one is missing."""
    try:
        return template.format(**params)
    except (KeyError, IndexError):
        return template
