"""The console's words: key -> (zh-CN, en), one table per page module, merged into TEXT.

Pages look a word up with server.console.pages.t(key, **params); `{name}` marks a parameter.
A key belongs to one table only: word_table refuses a key declared twice.
"""
from __future__ import annotations

Words = dict[str, tuple[str, str]]


def word_table(*tables: Words) -> Words:
    """The tables merged into one; ValueError when two declare the same key."""
    merged: Words = {}
    for table in tables:
        twice = merged.keys() & table.keys()
        if twice:
            raise ValueError(f"console words declared twice: {', '.join(sorted(twice))}")
        merged.update(table)
    return merged


# Every page's: the frame, login, dates, errors.
COMMON: Words = {
    "app": ("睿管家 · 主管控制台", "Guanjia · Supervisors' console"),
    "login_title": ("登录主管控制台", "Log in to the console"),
    "username": ("用户名", "Username"),
    "password": ("密码", "Password"),
    "log_in": ("登录", "Log in"),
    "log_out": ("退出登录", "Log out"),
    "switch": ("English", "中文"),
    "dashboard": ("总览", "Dashboard"),
    "start": ("开始日期", "From"),
    "end": ("结束日期", "To"),
    "community": ("小区", "Community"),
    "show": ("查看", "Show"),
    "month": ("月份", "Month"),
    "prev_month": ("‹ 上个月", "‹ Previous month"),
    "next_month": ("下个月 ›", "Next month ›"),
    "this_month": ("本月", "This month"),
    "export": ("导出 CSV", "Export CSV"),
    "no_rows": ("该时段没有数据。", "Nothing in this period."),
    "more_rows": ("图中只显示前 {shown} 项，表格列出全部 {total} 项。",
                  "The chart shows the first {shown}; the table lists all {total}."),
    "refused_title": ("无权进入主管控制台", "The console is for supervisors"),
    "refused": ("主管控制台仅供主管和管理员使用。管家和住户请使用手机应用。",
                "Only supervisors and administrators may use the console. Butlers and residents use the phone app."),
    "to_app": ("打开手机应用", "Open the phone app"),
    "to_login": ("用其他账号登录", "Log in with another account"),
    "bad_date": ("日期格式不正确，请使用 YYYY-MM-DD（例如 2026-01-31）。",
                 "The dates are not valid; use YYYY-MM-DD (for example 2026-01-31)."),
    "bad_range": ("开始日期不能晚于结束日期。", "The start date may not be after the end date."),
    "long_range": ("日期范围最长为 {days} 天。", "The range may be at most {days} days."),
    "no_community": ("您的账号没有所属小区，请联系管理员。",
                     "Your account belongs to no community; ask an administrator."),
    "csrf": ("页面已过期，请刷新后重试。", "This page has expired; reload it and try again."),
    "not_found": ("找不到该页面。", "Not found."),
    "forbidden": ("您无权访问此内容。", "You are not allowed to access this."),
    "error": ("出错了。", "Something went wrong."),
    "error_title": ("出错了", "Error"),
    "chart_of": ("图表：", "Chart: "),
}


# The nav's groups.
NAV: Words = {
    "nav_daily": ("日常", "Daily"), "nav_operations": ("运营", "Operations"),
    "nav_settings": ("团队与设置", "Team & settings"), "nav_records": ("记录", "Records"),
}


# Grids and households, tickets, butlers and their devices (actions.py).
ACTIONS: Words = {
    "grids": ("网格与住户", "Grids & households"),
    "tickets": ("工单", "Tickets"),
    "butlers": ("管家", "Butlers"),
    "grid": ("网格", "Grid"),
    "butler": ("管家", "Butler"),
    "households": ("住户", "Households"),
    "households_count": ("户数", "Households"),
    "building": ("楼栋", "Building"),
    "address": ("地址", "Address"),
    "no_grid": ("（无网格）", "(no grid)"),
    "no_butler": ("（无管家）", "(no butler)"),
    "change_butler": ("更换管家", "Change butler"),
    "move": ("移至网格", "Move to grid"),
    "save": ("保存", "Save"),
    "status": ("状态", "Status"),
    "category": ("类别", "Category"),
    "assignee": ("处理人", "Assignee"),
    "escalated": ("已升级", "Escalated"),
    "reassign": ("改派", "Reassign"),
    "escalate": ("升级", "Escalate"),
    "stage_accept": ("接单超时", "Not accepted in time"),
    "stage_resolve": ("处理超时", "Not resolved in time"),
    "no_open_tickets": ("没有未完成的工单。", "No open tickets."),
    "nobody": ("（未指派）", "(nobody)"),
    "username_label": ("用户名", "Username"),
    "name": ("姓名", "Name"),
    "initial_password": ("初始密码（至少 8 位）", "Initial password (8 characters or more)"),
    "new_password": ("新密码（至少 8 位）", "New password (8 characters or more)"),
    "create_butler": ("新建管家", "New butler"),
    "create": ("创建", "Create"),
    "reset_password": ("重置密码", "Reset password"),
    "devices": ("设备", "Devices"),
    "device": ("设备", "Device"),
    "last_seen": ("最后在线", "Last seen"),
    "never": ("从未", "never"),
    "revoke": ("注销设备", "Revoke"),
    "revoked": ("已注销", "revoked"),
    "inactive": ("已停用", "inactive"),
    "no_devices": ("没有设备", "No devices"),
    "done_grid_butler": ("已将网格“{grid}”交给{butler}。", "Grid {grid} now belongs to {butler}."),
    "done_household_grid": ("已将 {address} 移至网格“{grid}”。", "{address} moved to grid {grid}."),
    "done_reassign": ("工单已改派给{user}。", "The ticket is now with {user}."),
    "done_escalate": ("工单已升级，主管和处理人已收到通知。",
                      "The ticket is escalated; the supervisors and the assignee are told."),
    "done_revoke": ("设备“{device}”（{user}）已注销，下次联网时将清除本机数据。",
                    "Device {device} ({user}) is revoked; it wipes its local data at its next contact."),
    "done_create": ("已创建管家 {name}（{username}）。", "Butler {name} ({username}) created."),
    "done_reset": ("已重置{name}的密码，其所有设备已退出登录。",
                   "{name}'s password is reset; all their devices are logged out."),
    "err_too_short": ("{label}至少需要 {min} 个字符。", "{label} must be at least {min} characters long."),
    "err_not_open": ("该工单已完成或已取消，不能升级。", "This ticket is finished or cancelled; it cannot be escalated."),
    "err_already_escalated": ("该工单已按此阶段升级过。", "This ticket is already escalated for that stage."),
    "err_choose": ("请选择一项。", "Please choose one."),
}


# The butlers' attendance (attendance.py).
ATTENDANCE: Words = {
    "attendance": ("考勤", "Attendance"),
    "att_title": ("{month} 考勤", "Attendance for {month}"),
    "att_butler": ("管家", "Butler"),
    "att_present": ("出勤天数", "Days present"),
    "att_present_short": ("出勤", "Present"),
    "att_late_days": ("迟到天数", "Days late"),
    "att_absent_days": ("缺勤天数", "Days absent"),
    "att_in": ("签到", "In"),
    "att_out": ("签退", "Out"),
    "att_late": ("迟到", "Late"),
    "att_absent": ("缺勤", "Absent"),
    "att_rules": ("按小区时区（{zone}）计日。首次签到晚于 {starts} 记为迟到；"
                  "已过去的日子没有任何签到记为缺勤。",
                  "Days are counted in the community's time zone ({zone}). A first check-in after {starts} is late; "
                  "a past day without any check-in is absent."),
    "att_no_butlers": ("本小区还没有管家。", "This community has no butlers yet."),
    "att_bad_month": ("月份格式不正确，请使用 YYYY-MM（例如 2026-11）。",
                      "The month is not valid; use YYYY-MM (for example 2026-11)."),
    "att_weekdays": ("一二三四五六日", "MTWTFSS"),
}


# The audit trail (audit.py).
AUDIT: Words = {
    "audit": ("审计记录", "Audit trail"),
    "audit_intro": ("谁在何时查看了住户档案中的个人信息、谁修改了什么。只记录字段名称，不记录内容。",
                    "Who read a household file's personal data, and who changed what, when. Field names only, "
                    "never their contents."),
    "audit_household": ("住户", "Household"),
    "audit_user": ("用户", "User"),
    "audit_all_households": ("（全部住户）", "(all households)"),
    "audit_all_users": ("（全部用户）", "(all users)"),
    "audit_time": ("时间", "Time"),
    "audit_who": ("操作人", "Who"),
    "audit_action": ("操作", "Action"),
    "audit_record": ("记录", "Record"),
    "audit_fields": ("字段", "Fields"),
    "audit_channel": ("渠道", "Channel"),
    "audit_none": ("没有记录。", "Nothing recorded."),
    "audit_older": ("更早的记录", "Older"),
    "audit_newest": ("回到最新", "Newest"),
    "audit_of_household": ("审计记录", "Audit trail"),
}


# The service catalogue and the visit checklist (catalogue.py).
CATALOGUE: Words = {
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
}


# Sync conflicts (conflicts.py).
CONFLICTS: Words = {
    "conflicts": ("同步冲突", "Sync conflicts"),
    "conflicts_intro": ("两台设备改了同一项：记录里是后到的值，另一个值保存在这里。请选择保留哪一个。",
                        "Two devices changed the same field: the record holds the later value, the other is kept here. "
                        "Choose which one stays."),
    "no_conflicts": ("没有待处理的冲突。", "No open conflicts."),
    "record": ("记录", "Record"),
    "field": ("字段", "Field"),
    "in_record": ("记录中的值", "Value in the record"),
    "other_value": ("另一个值", "The other value"),
    "keep_this": ("保留此值", "Keep this"),
    "by_at": ("{user}，{at}", "{user}, {at}"),
    "empty_value": ("（空）", "(empty)"),
    "settled_recently": ("最近处理的冲突（30 天内）", "Settled in the last 30 days"),
    "settled_by": ("处理人", "Settled by"),
    "chosen_value": ("保留的值", "Kept value"),
    "done_settle": ("已处理：{field}保留“{value}”，手机将在下次同步时更新。",
                    "Settled: {field} keeps “{value}”; phones update at their next sync."),
    "err_already_settled": ("该冲突已被处理。", "This conflict is already settled."),
    "err_changed_since_conflict": ("该项在冲突之后又被修改过，只能保留记录中的当前值。",
                                   "The field changed again after the conflict; only the value now in the record can be kept."),
}


# The work plan and quality inspections (operations.py).
OPERATIONS: Words = {
    "plan": ("月度计划", "Work plan"),
    "inspections": ("品质检查", "Inspections"),
    "op_plan_of": ("{month} 工作计划", "Work plan for {month}"),
    "op_inspections_of": ("品质检查：{start} 至 {end}", "Inspections from {start} to {end}"),
    "op_this_month": ("本月", "This month"),
    "op_due": ("截止日期", "Due"),
    "op_category": ("类别", "Category"),
    "op_title": ("事项", "Item"),
    "op_contractor": ("外委单位", "Contractor"),
    "op_assignee": ("负责人", "Assignee"),
    "op_note": ("备注", "Note"),
    "op_state": ("状态", "State"),
    "op_actions": ("操作", "Actions"),
    "op_state_done": ("✓ 已完成", "✓ Done"),
    "op_state_overdue": ("已逾期", "Overdue"),
    "op_state_open": ("进行中", "Open"),
    "op_done_by": ("{name}，{at}", "{name}, {at}"),
    "op_done_note": ("完成说明", "Note on completion"),
    "op_mark_done": ("标记完成", "Mark done"),
    "op_reopen": ("重新打开", "Reopen"),
    "op_delete": ("删除", "Delete"),
    "op_nobody": ("（未指定）", "(nobody)"),
    "op_no_items": ("本月还没有计划事项。可以新增，或复制上月计划。",
                    "No plan items this month yet: add some, or copy last month's plan."),
    "op_counts": ("各类完成情况", "Done by category"),
    "op_done_total": ("已完成 / 总数", "Done / total"),
    "op_add_item": ("新增计划事项", "Add a plan item"),
    "op_add": ("添加", "Add"),
    "op_copy": ("复制上月计划", "Copy last month's plan"),
    "op_copy_hint": ("把 {source} 的事项复制到本月，截止日期顺延一个月；已复制过的事项会跳过。",
                     "Copies {source}'s items into this month, each due a month later; items already copied are skipped."),
    "op_choose": ("—", "—"),
    "op_inspected_on": ("检查日期", "Date"),
    "op_place": ("检查地点", "Place"),
    "op_inspector": ("检查人", "Inspector"),
    "op_score": ("得分（合格 / 总项）", "Score (passed / items)"),
    "op_failed_items": ("不合格项", "Failed items"),
    "op_all_passed": ("全部合格", "All passed"),
    "op_linked": ("关联计划", "Plan item"),
    "op_no_inspections": ("该时段没有检查记录。", "No inspections in this period."),
    "op_rates": ("各类合格率", "Pass rate by category"),
    "op_inspection_count": ("检查次数", "Inspections"),
    "op_items_passed": ("合格项 / 检查项", "Items passed / checked"),
    "op_pass_rate": ("合格率", "Pass rate"),
    "op_new_inspection": ("新增检查", "New inspection"),
    "op_choose_category": ("检查类别", "Category"),
    "op_show_checklist": ("显示检查表", "Show the checklist"),
    "op_pick_category": ("先选择检查类别，再逐项填写检查表。", "Choose a category first, then fill in its checklist."),
    "op_checklist": ("检查项", "Checklist item"),
    "op_result": ("结果", "Result"),
    "op_pass": ("合格", "Passed"),
    "op_fail": ("不合格", "Failed"),
    "op_item_note": ("说明", "Note"),
    "op_link_plan": ("关联计划事项（可选）", "Plan item checked (optional)"),
    "op_no_link": ("（不关联）", "(none)"),
    "op_notes": ("备注", "Notes"),
    "op_save_inspection": ("保存检查记录", "Save the inspection"),
    "op_bad_month": ("月份格式不正确，请使用 YYYY-MM（例如 2026-11）。",
                     "The month is not valid; use YYYY-MM (for example 2026-11)."),
    "op_bad_category": ("未知的检查类别，请从列表中选择。", "Unknown category; choose one from the list."),
    "op_done_add": ("已添加计划事项“{title}”（截止 {due}）。", "Plan item {title} added (due {due})."),
    "op_done_done": ("已将“{title}”标记为完成。", "{title} is marked done."),
    "op_done_reopen": ("已重新打开“{title}”。", "{title} is open again."),
    "op_done_delete": ("已删除“{title}”。", "{title} is deleted."),
    "op_done_copy": ("已从 {source} 复制 {count} 项计划。", "{count} items copied from {source}."),
    "op_done_copy_none": ("{source} 没有需要复制的事项（已复制过的会跳过）。",
                          "Nothing to copy from {source} (items already copied are skipped)."),
    "op_done_inspection": ("已记录{place}的{category}检查：{passed}/{total} 项合格。",
                           "Inspection of {place} ({category}) recorded: {passed}/{total} passed."),
    # Field names and refusals of these pages (the API's own words are in server/i18n.py).
    "op_label_title": ("事项名称", "Title"),
    "op_label_category": ("类别", "Category"),
    "op_label_due_date": ("截止日期", "Due date"),
    "op_label_month": ("月份", "Month"),
    "op_label_contractor": ("外委单位", "Contractor"),
    "op_label_assignee_id": ("负责人", "Assignee"),
    "op_label_note": ("备注", "Note"),
    "op_label_done_note": ("完成说明", "Note on completion"),
    "op_label_place": ("检查地点", "Place"),
    "op_label_inspected_on": ("检查日期", "Date"),
    "op_label_plan_item_id": ("关联计划事项", "Plan item"),
    "op_label_notes": ("备注", "Notes"),
    "op_err_invalid_month": ("月份格式不正确，请使用 YYYY-MM（例如 2026-11）。",
                             "The month is not valid; use YYYY-MM (for example 2026-11)."),
    "op_err_invalid_type": ("{label}格式不正确，请使用 YYYY-MM-DD。", "{label} is not valid; use YYYY-MM-DD."),
    "op_err_invalid_choice": ("请从列表中选择{label}。", "Choose the {label} from the list."),
    "op_err_outside_month": ("{label}必须在 {month} 内。", "{label} must fall within {month}."),
    "op_err_in_future": ("{label}不能晚于今天。", "{label} cannot be later than today."),
    "op_err_unanswered": ("请为以下检查项选择合格或不合格：{items}。",
                          "Mark each of these items passed or failed: {items}."),
    "op_err_unknown_item": ("提交了检查表以外的检查项：{items}。", "Answers were sent for items not on the checklist: {items}."),
    "op_err_already_done": ("该事项已标记完成。", "This item is already marked done."),
    "op_err_not_done": ("该事项尚未完成，无需重新打开。", "This item is not done; there is nothing to reopen."),
}


TEXT: Words = word_table(COMMON, NAV, ACTIONS, ATTENDANCE, AUDIT, CATALOGUE, CONFLICTS, OPERATIONS)
