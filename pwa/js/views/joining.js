// Joining a household: the butler's invite (code and QR code on the phone, shown to the household),
// the butler's pending requests to approve or refuse, and a new resident's screens — joining with a
// code (the link of the QR code opens it), asking to join without one, waiting for the butler — and
// the owner's list of the household's residents. Each needs the network at that moment; offline the
// screen says so and keeps what was typed.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as joining from "../joining.js";
import * as session from "../session.js";
import * as store from "../store.js";
import { addressLabel } from "./common.js";
import { HOUSEHOLD_ROLES, accountProblems, displayCode, looksLikeCode, mayRemove, normalizeCode } from "./joining-logic.js";

extend({
  "zh-CN": {
    joining: {
      invite_title: "邀请住户", invite_for: "为 {address} 生成邀请码", role: "住户身份",
      roles: { owner: "业主", family: "家人", tenant: "租户" },
      issue: "生成邀请码", issuing: "正在生成…",
      offline_issue: "没有网络，无法生成邀请码。请到有信号的地方再试，已选的内容不会丢失。",
      offline_action: "没有网络，此操作需要联网。请到有信号的地方再试，已填写的内容不会丢失。",
      code_label: "邀请码", code_hint: "请住户用手机扫描二维码，或在登录页点“我有邀请码”后输入。",
      valid_until: "有效期至 {date}，只能使用一次。", qr_alt: "加入链接的二维码",
      revoke: "撤销此邀请码", revoked: "已撤销，此邀请码不能再使用。", another: "再生成一个",
      have_code: "我有邀请码", no_code: "没有邀请码？申请入住", back_login: "返回登录",
      join_title: "加入我家", join_hint: "输入管家给您的 8 位邀请码，设置用户名和密码。",
      code: "邀请码", name: "您的姓名", choose_username: "设置用户名", choose_password: "设置密码（至少 8 位）",
      join: "加入", joining: "正在加入…",
      err_code: "请输入 8 位邀请码（字母和数字）。", err_username: "请设置用户名。", err_name: "请填写您的姓名。",
      err_password: "密码至少需要 8 位。",
      offline_join: "没有网络，无法加入。请到有信号的地方再试，已填写的内容不会丢失。",
      ask_title: "申请入住", ask_hint: "选择您的小区和房号，填写业主姓名。管家核实后，您的账号就会开通。",
      community: "小区", building: "楼栋", unit: "单元", room: "房号", pick: "请选择",
      owner_name: "业主姓名", ask: "提交申请", asking: "正在提交…", err_room: "请选择楼栋、单元和房号。",
      err_owner: "请填写业主姓名。",
      pending_title: "入住申请", pending_wait: "您的申请正在等待管家审核。审核通过后即可使用。",
      pending_refused: "您的申请未通过。原因：{reason}", pending_approved: "申请已通过！",
      pending_none: "您的账号还没有绑定住户。请向管家索取邀请码。", check: "刷新状态",
      requests_title: "入住申请", requests_none: "没有待审核的申请。", requests_link: "入住申请（{n}）",
      requests_offline: "离线：显示的是 {when} 获取的列表。审核需要联网。",
      requester: "申请人：{name}", owner_named: "所填业主：{name}", as_role: "身份：{role}",
      approve: "同意", refuse: "拒绝", reason: "拒绝原因", confirm_refuse: "确认拒绝",
      err_reason: "请填写拒绝原因。", approved: "已同意。", refused: "已拒绝。",
      members_title: "家庭成员", members_link: "家庭成员与账号", remove: "移除",
      confirm_remove: "确定将 {name} 移出本户吗？对方将无法再查看本户信息。", removed: "已移除。", you: "（我）",
    },
  },
  en: {
    joining: {
      invite_title: "Invite a resident", invite_for: "An invite code for {address}", role: "Role in the household",
      roles: { owner: "Owner", family: "Family", tenant: "Tenant" },
      issue: "Create invite code", issuing: "Creating…",
      offline_issue: "No network, so no invite code can be made now. Try again where there is signal; your choice is kept.",
      offline_action: "No network: this needs a connection. Try again where there is signal; what you entered is kept.",
      code_label: "Invite code", code_hint: "Let the resident scan the QR code, or type the code after tapping “I have an invite code” on the login screen.",
      valid_until: "Valid until {date}, for one use.", qr_alt: "QR code of the join link",
      revoke: "Revoke this code", revoked: "Revoked: this code can no longer be used.", another: "Make another",
      have_code: "I have an invite code", no_code: "No invite code? Ask to join", back_login: "Back to log in",
      join_title: "Join my home", join_hint: "Enter the 8-character code your butler gave you, and choose a username and password.",
      code: "Invite code", name: "Your name", choose_username: "Choose a username", choose_password: "Choose a password (8 or more)",
      join: "Join", joining: "Joining…",
      err_code: "Enter the 8-character invite code (letters and digits).", err_username: "Choose a username.",
      err_name: "Enter your name.", err_password: "The password needs at least 8 characters.",
      offline_join: "No network, so you cannot join now. Try again where there is signal; what you typed is kept.",
      ask_title: "Ask to join", ask_hint: "Choose your community and room and name the owner. Your account opens once the butler checks it.",
      community: "Community", building: "Building", unit: "Entrance", room: "Room", pick: "Choose",
      owner_name: "Owner's name", ask: "Send request", asking: "Sending…", err_room: "Choose the building, entrance and room.",
      err_owner: "Enter the owner's name.",
      pending_title: "Your request", pending_wait: "Your request is waiting for the butler. You can use the app once it is approved.",
      pending_refused: "Your request was refused. Reason: {reason}", pending_approved: "Approved!",
      pending_none: "Your account is not linked to a home. Ask your butler for an invite code.", check: "Check again",
      requests_title: "Requests to join", requests_none: "No requests waiting.", requests_link: "Requests to join ({n})",
      requests_offline: "Offline: this list was fetched {when}. Deciding needs a connection.",
      requester: "From: {name}", owner_named: "Owner named: {name}", as_role: "As: {role}",
      approve: "Approve", refuse: "Refuse", reason: "Reason for refusing", confirm_refuse: "Refuse",
      err_reason: "Give a reason for refusing.", approved: "Approved.", refused: "Refused.",
      members_title: "Household members", members_link: "Household members and accounts", remove: "Remove",
      confirm_remove: "Remove {name} from the household? They will no longer see its information.", removed: "Removed.",
      you: "(me)",
    },
  },
});

const roleName = (role) => t(`joining.roles.${role}`);

function field(labelKey, input) {
  return h("label", {}, h("span", {}, t(labelKey)), input);
}

function problemText(error, offlineKey) {
  if (error?.offline) return t(offlineKey);
  const fields = error?.body?.details?.errors;
  return fields?.length ? fields.map((f) => f.message).join(" ") : error?.message ?? String(error);
}

function roleChoice(selected, onchange) {
  return h("fieldset", { class: "role-choice", "data-testid": "invite-role" },
    h("legend", {}, t("joining.role")),
    HOUSEHOLD_ROLES.map((role) => h("label", { class: "radio" },
      h("input", { type: "radio", name: "household_role", value: role, checked: role === selected,
                   onchange: () => onchange(role) }),
      " ", roleName(role))));
}

// ---- the butler: invite a household's resident ---------------------------------------------------------

export function inviteView(root, route) {
  const hid = route.args[0];
  const household = store.get("household", hid);
  // What the butler chose survives a failed attempt (offline) and a redraw.
  const ui = { role: "owner", issued: null, busy: false, error: "", revoked: false };
  window.scrollTo(0, 0);

  function draw() {
    fill(root, h("section", { class: "butler card invite-screen", "data-testid": "invite" },
      h("h2", {}, t("joining.invite_title")),
      h("p", {}, t("joining.invite_for", { address: household ? addressLabel(household) : "" })),
      ui.issued ? issuedCard() : form()));
  }

  function form() {
    return h("form", { onsubmit: submit },
      roleChoice(ui.role, (role) => { ui.role = role; }),
      h("button", { type: "submit", class: "primary wide", disabled: ui.busy, "data-testid": "issue-invite" },
        ui.busy ? t("joining.issuing") : t("joining.issue")),
      ui.error ? h("p", { class: "error", role: "alert", "data-testid": "invite-error" }, ui.error) : null);
  }

  function issuedCard() {
    const invite = ui.issued;
    const qr = `data:image/svg+xml;charset=utf-8,${encodeURIComponent(invite.qr_svg)}`;
    return h("div", { class: "issued" },
      h("p", { class: "invite-code-label" }, t("joining.code_label"), " · ", roleName(invite.household_role)),
      h("p", { class: "invite-code", "data-testid": "invite-code" }, displayCode(invite.code)),
      h("img", { class: "invite-qr", src: qr, alt: t("joining.qr_alt"), width: 220, height: 220, "data-testid": "invite-qr" }),
      h("p", { class: "hint" }, t("joining.code_hint")),
      h("p", { class: "hint" }, t("joining.valid_until", { date: new Date(invite.expires_at).toLocaleString() })),
      ui.revoked ? h("p", { class: "notice", role: "status" }, t("joining.revoked"))
        : h("button", { type: "button", class: "secondary", "data-testid": "revoke-invite", onclick: revoke }, t("joining.revoke")),
      ui.error ? h("p", { class: "error", role: "alert" }, ui.error) : null,
      h("button", { type: "button", class: "secondary", onclick: () => { ui.issued = null; ui.revoked = false; draw(); } },
        t("joining.another")));
  }

  async function submit(event) {
    event.preventDefault();
    ui.busy = true; ui.error = "";
    draw();
    try {
      ui.issued = await joining.issueInvite(hid, ui.role);
    } catch (error) {
      ui.error = problemText(error, "joining.offline_issue");
    } finally {
      ui.busy = false;
      draw();
    }
  }

  async function revoke() {
    ui.error = "";
    try {
      await joining.revokeInvite(ui.issued.id);
      ui.revoked = true;
    } catch (error) {
      ui.error = problemText(error, "joining.offline_action");
    }
    draw();
  }

  draw();
}

// ---- the butler: requests to join ------------------------------------------------------------------------

/** A link to the pending requests for the butler's home screen, with the count: the last known one at
 * once (it reads offline), then the server's, fetched now and again whenever the live channel says a
 * request came in. */
export function joinRequestsLink() {
  const count = () => store.meta.joinRequests?.requests?.length ?? 0;
  const link = h("a", { class: "card join-requests-link", href: "#/join-requests", "data-testid": "join-requests-link",
                        "data-count": String(count()) }, t("joining.requests_link", { n: count() }));
  const show = () => {
    link.textContent = t("joining.requests_link", { n: count() });
    link.dataset.count = String(count());
  };
  const refresh = () => {
    if (!link.isConnected && link.dataset.drawn) {
      window.removeEventListener("guanjia:join-requests", refresh);
      return;
    }
    link.dataset.drawn = "1";
    joining.pendingRequests().then(show).catch(() => {}); // offline: the kept count stays
  };
  window.addEventListener("guanjia:join-requests", refresh);
  setTimeout(refresh, 0);
  return link;
}

export function joinRequestsView(root) {
  const ui = { requests: store.meta.joinRequests?.requests ?? [], fresh: false, at: store.meta.joinRequests?.at,
               refusing: null, reasons: new Map(), error: "", done: "" };
  let open = true;
  window.scrollTo(0, 0);

  function draw() {
    if (!open) return;
    fill(root, h("section", { class: "butler", "data-testid": "join-requests" },
      h("h2", { class: "screen-title" }, t("joining.requests_title")),
      !ui.fresh && ui.at ? h("p", { class: "notice", role: "status", "data-testid": "requests-offline" },
        t("joining.requests_offline", { when: new Date(ui.at).toLocaleString() })) : null,
      ui.done ? h("p", { class: "notice", role: "status" }, ui.done) : null,
      ui.error ? h("p", { class: "error", role: "alert", "data-testid": "requests-error" }, ui.error) : null,
      ui.requests.length ? ui.requests.map(requestCard)
        : h("p", { class: "card" }, t("joining.requests_none"))));
  }

  function requestCard(request) {
    const reason = h("textarea", { rows: 2, maxlength: 200, "data-testid": "refuse-reason",
                                   oninput: (e) => ui.reasons.set(request.id, e.target.value) },
      ui.reasons.get(request.id) ?? "");
    return h("article", { class: "card", "data-testid": "join-request", "data-id": request.id },
      h("h3", {}, addressLabel(request.address)),
      h("p", {}, t("joining.requester", { name: request.requester_name })),
      h("p", {}, t("joining.owner_named", { name: request.owner_name })),
      h("p", {}, t("joining.as_role", { role: roleName(request.household_role) })),
      ui.refusing === request.id
        ? [field("joining.reason", reason),
           h("button", { type: "button", class: "danger", "data-testid": "confirm-refuse",
                         onclick: () => decide(request, false) }, t("joining.confirm_refuse"))]
        : h("div", { class: "action-row" },
          h("button", { type: "button", class: "primary", "data-testid": "approve", onclick: () => decide(request, true) },
            t("joining.approve")),
          h("button", { type: "button", class: "secondary", "data-testid": "refuse",
                        onclick: () => { ui.refusing = request.id; draw(); } }, t("joining.refuse"))));
  }

  async function decide(request, approve) {
    const reason = (ui.reasons.get(request.id) ?? "").trim();
    ui.error = ""; ui.done = "";
    if (!approve && !reason) {
      ui.error = t("joining.err_reason");
      return draw();
    }
    try {
      await joining.decide(request.id, { approve, reason });
      ui.requests = ui.requests.filter((r) => r.id !== request.id);
      ui.reasons.delete(request.id);
      ui.refusing = null;
      ui.done = approve ? t("joining.approved") : t("joining.refused");
    } catch (error) {
      ui.error = problemText(error, "joining.offline_action"); // the reason typed stays
    }
    draw();
  }

  draw();
  joining.pendingRequests().then((found) => {
    Object.assign(ui, { requests: found.requests, fresh: found.fresh, at: found.at ?? ui.at });
    draw();
  }).catch((error) => { ui.error = problemText(error, "joining.offline_action"); draw(); });
  return () => { open = false; };
}

// ---- a new resident: join with a code ----------------------------------------------------------------------

function accountInputs(kept) {
  return {
    name: h("input", { name: "name", autocomplete: "name", required: true, maxlength: 100, value: kept.name ?? "" }),
    username: h("input", { name: "username", autocomplete: "username", required: true, maxlength: 64,
                           autocapitalize: "off", value: kept.username ?? "" }),
    password: h("input", { name: "new-password", type: "password", autocomplete: "new-password", required: true,
                           minlength: 8, maxlength: 256 }),
  };
}

function accountFields(inputs) {
  return [field("joining.name", inputs.name), field("joining.choose_username", inputs.username),
          field("joining.choose_password", inputs.password)];
}

function accountError(inputs) {
  const problems = accountProblems({ username: inputs.username.value, password: inputs.password.value,
                                     name: inputs.name.value });
  return problems.length ? t(`joining.err_${problems[0]}`) : "";
}

function loginLinks(...which) {
  const links = { login: ["#/login", "joining.back_login"], join: ["#/join", "joining.have_code"],
                  ask: ["#/ask", "joining.no_code"] };
  return h("p", { class: "join-links" }, which.map((name) =>
    h("a", { href: links[name][0], class: "join-link", "data-testid": `link-${name}` }, t(links[name][1]))));
}

export function joinView(root, route, { rerender, startSync }) {
  const code = h("input", { name: "invite_code", required: true, maxlength: 12, autocapitalize: "characters",
                            autocomplete: "off", class: "code-input", "data-testid": "join-code",
                            value: displayCode(route.query.code ?? "") });
  const inputs = accountInputs({});
  const error = h("p", { class: "error", role: "alert", hidden: true, "data-testid": "join-error" });
  const button = h("button", { type: "submit", class: "primary wide", "data-testid": "join-submit" }, t("joining.join"));
  const form = h("form", { id: "join", class: "card", onsubmit: submit },
    h("h2", {}, t("joining.join_title")), h("p", { class: "hint" }, t("joining.join_hint")),
    field("joining.code", code), accountFields(inputs), button, error);
  fill(root, form, loginLinks("login", "ask"));

  async function submit(event) {
    event.preventDefault();
    const problem = !looksLikeCode(code.value) ? t("joining.err_code") : accountError(inputs);
    if (problem) return show(problem);
    button.disabled = true;
    button.textContent = t("joining.joining");
    try {
      await joining.join(normalizeCode(code.value), { name: inputs.name.value.trim(),
        username: inputs.username.value.trim(), password: inputs.password.value });
      location.hash = "#/mine";
      rerender();
      startSync();
    } catch (e) {
      show(problemText(e, "joining.offline_join"));
    } finally {
      button.disabled = false;
      button.textContent = t("joining.join");
    }
  }

  function show(text) {
    error.textContent = text;
    error.hidden = false;
  }
}

// ---- a new resident: ask to join without a code --------------------------------------------------------------

export function askView(root, _route, { rerender }) {
  const ui = { communities: [], structure: null };
  const community = h("select", { name: "community", required: true, "data-testid": "ask-community", onchange: loadStructure });
  const building = h("select", { name: "building", required: true, "data-testid": "ask-building", onchange: fillUnits });
  const unit = h("select", { name: "unit", required: true, "data-testid": "ask-unit", onchange: fillRooms });
  const room = h("select", { name: "room", required: true, "data-testid": "ask-room" });
  const owner = h("input", { name: "owner_name", required: true, maxlength: 100, "data-testid": "ask-owner" });
  let role = "family";
  const inputs = accountInputs({});
  const error = h("p", { class: "error", role: "alert", hidden: true, "data-testid": "ask-error" });
  const button = h("button", { type: "submit", class: "primary wide", "data-testid": "ask-submit" }, t("joining.ask"));
  const form = h("form", { id: "ask", class: "card", onsubmit: submit },
    h("h2", {}, t("joining.ask_title")), h("p", { class: "hint" }, t("joining.ask_hint")),
    field("joining.community", community), field("joining.building", building), field("joining.unit", unit),
    field("joining.room", room), field("joining.owner_name", owner), roleChoice(role, (value) => { role = value; }),
    accountFields(inputs), button, error);
  fill(root, form, loginLinks("login", "join"));

  const options = (values) => [h("option", { value: "" }, t("joining.pick")), ...values.map((v) => h("option", { value: v }, v))];
  const selected = () => ui.structure?.buildings.find((b) => b.building === building.value);

  function fillUnits() {
    fill(unit, ...options((selected()?.units ?? []).map((u) => u.unit)));
    fillRooms();
  }

  function fillRooms() {
    const found = selected()?.units.find((u) => u.unit === unit.value);
    fill(room, ...options(found?.rooms ?? []));
  }

  async function loadStructure() {
    ui.structure = null;
    fill(building, ...options([]));
    fillUnits();
    if (!community.value) return;
    try {
      ui.structure = await joining.addresses(community.value);
      fill(building, ...options(ui.structure.buildings.map((b) => b.building)));
      fillUnits();
    } catch (e) {
      show(problemText(e, "joining.offline_action"));
    }
  }

  joining.communities().then(({ communities }) => {
    fill(community, ...options([]), ...communities.map((c) => h("option", { value: c.id }, c.name)));
    if (communities.length === 1) {
      community.value = communities[0].id;
      loadStructure();
    }
  }).catch((e) => show(problemText(e, "joining.offline_action")));

  async function submit(event) {
    event.preventDefault();
    error.hidden = true;
    if (!community.value || !building.value || !room.value) return show(t("joining.err_room"));
    if (!owner.value.trim()) return show(t("joining.err_owner"));
    const problem = accountError(inputs);
    if (problem) return show(problem);
    button.disabled = true;
    try {
      await joining.askToJoin({ community_id: community.value, building: building.value, unit: unit.value,
        room: room.value, owner_name: owner.value.trim(), household_role: role, name: inputs.name.value.trim(),
        username: inputs.username.value.trim(), password: inputs.password.value });
      location.hash = "#/pending";
      rerender();
    } catch (e) {
      show(problemText(e, "joining.offline_action"));
    } finally {
      button.disabled = false;
    }
  }

  function show(text) {
    error.textContent = text;
    error.hidden = false;
  }
}

// ---- a resident bound to no household: their request's status only ---------------------------------------------

export function pendingView(root, _route, { rerender, startSync }) {
  const status = h("p", { class: "notice", role: "status", "data-testid": "pending-status" }, t("loading"));
  const logout = h("button", { type: "button", class: "secondary", "data-testid": "pending-logout",
                               onclick: async () => { await session.logout({ force: true }); rerender(); } }, t("logout"));
  fill(root, h("section", { class: "card resident", "data-testid": "pending" },
    h("h2", {}, t("joining.pending_title")), status,
    h("button", { type: "button", class: "primary wide", "data-testid": "pending-check", onclick: check }, t("joining.check")),
    logout));

  async function check() {
    try {
      const user = await joining.refreshMe();
      if (user.household_id) {
        status.textContent = t("joining.pending_approved");
        location.hash = "#/mine";
        rerender();
        startSync();
        return;
      }
    } catch (e) {
      if (e.offline) { status.textContent = t("joining.offline_action"); return; }
    }
    try {
      const request = await joining.myRequest();
      status.textContent = request.status === "refused" ? t("joining.pending_refused", { reason: request.reason })
        : t("joining.pending_wait");
    } catch (e) {
      status.textContent = e.offline ? t("joining.offline_action") : t("joining.pending_none");
    }
  }

  check();
}

// ---- a resident: the household's residents, and the owner removes family or tenants -------------------------

export function membersView(root) {
  const list = h("ul", { class: "rs-rows", "data-testid": "members" });
  const message = h("p", { role: "status", class: "notice", hidden: true });
  fill(root, h("section", { class: "card resident" },
    h("h2", {}, t("joining.members_title")), list, message));
  const me = store.meta.user;

  function say(text) {
    message.textContent = text;
    message.hidden = false;
  }

  async function load() {
    try {
      const { residents } = await joining.housemates();
      fill(list, ...residents.map((other) => h("li", { "data-testid": "member" },
        h("span", {}, other.name, other.id === me?.id ? ` ${t("joining.you")}` : "", " · ",
          other.household_role ? roleName(other.household_role) : ""),
        mayRemove(me, other) ? h("button", { type: "button", class: "secondary small", "data-testid": "remove-member",
                                             onclick: () => remove(other) }, t("joining.remove")) : null)));
    } catch (e) {
      say(problemText(e, "joining.offline_action"));
    }
  }

  async function remove(other) {
    if (!window.confirm(t("joining.confirm_remove", { name: other.name }))) return;
    try {
      await joining.removeHousemate(other.id);
      say(t("joining.removed"));
      load();
    } catch (e) {
      say(problemText(e, "joining.offline_action"));
    }
  }

  load();
}

/** The link to the household's members, for the resident's 我的 screen. */
export function membersLink() {
  return h("a", { class: "button secondary wide", href: "#/members", "data-testid": "members-link" },
    t("joining.members_link"));
}
