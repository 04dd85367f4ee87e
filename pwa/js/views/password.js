// 修改密码 Change password (#/password): from the account card of 同步 / 我的 (every role), and the
// first screen after logging in while a supervisor's password is still the user's (a technician's
// one-time password, a butler's reset one): then nothing else opens, nothing syncs, and nothing on the
// phone is lost; once the password is the user's own the app goes home and syncs what waited.
// It needs the server at that moment: offline, the screen says so and keeps what was typed.

import { fill, h } from "../dom.js";
import { extend, t } from "../i18n.js";
import * as session from "../session.js";
import * as store from "../store.js";
import { localProblems, MIN_LENGTH, mustChange, problemsByField } from "./password-logic.js";

extend({
  "zh-CN": {
    my_password: {
      title: "修改密码", forced_title: "请先修改密码",
      forced_hint: "您现在的密码是主管为您设置的。请设置一个只有您自己知道的新密码，然后就可以继续使用。",
      kept_hint: "手机上还没发送的记录都在，改好密码后会自动发送。",
      hint: "修改后，您在其他手机或电脑上的登录会退出；这部手机保持登录。",
      current: "当前密码", current_forced: "当前密码（主管给您的密码）",
      new: "新密码", new_hint: "至少 {min} 位，只有您自己知道。",
      show: "显示密码", save: "保存新密码", saving: "正在保存…",
      offline: "现在没有网络。修改密码需要连接服务器，请到有信号的地方再试。",
      offline_kept: "现在没有网络。修改密码需要连接服务器，请到有信号的地方再试。您的记录都还在这部手机上。",
      required: "请填写这一项。", too_short: "新密码至少需要 {min} 个字符。",
      done: "密码已修改。您在其他设备上的登录已退出。", back: "‹ 返回",
    },
  },
  en: {
    my_password: {
      title: "Change password", forced_title: "Please set your own password",
      forced_hint: "A supervisor set the password you have now. Choose a new one that only you know, then carry on.",
      kept_hint: "Everything not yet sent is still on this phone; it is sent once your password is set.",
      hint: "Your other phones and computers are logged out; this phone stays logged in.",
      current: "Current password", current_forced: "Current password (the one the supervisor gave you)",
      new: "New password", new_hint: "At least {min} characters, known only to you.",
      show: "Show passwords", save: "Save the new password", saving: "Saving…",
      offline: "No network now. Changing the password needs the server; try again where there is signal.",
      offline_kept: "No network now. Changing the password needs the server; try again where there is signal. "
        + "Your records are all still on this phone.",
      required: "Please fill this in.", too_short: "The new password needs at least {min} characters.",
      done: "Your password is changed. Your other devices are logged out.", back: "‹ Back",
    },
  },
});

export function passwordView(root, _route, { rerender, startSync, go }) {
  const forced = mustChange(store.meta.user);
  const ui = { busy: false, problems: {}, done: false, show: false };
  const inputs = {
    current_password: h("input", { name: "current_password", type: "password", autocomplete: "current-password",
                                   "data-testid": "current-password", maxlength: 256, required: true }),
    new_password: h("input", { name: "new_password", type: "password", autocomplete: "new-password",
                               "data-testid": "new-password", maxlength: 256, minlength: MIN_LENGTH, required: true }),
  };
  const offlineNote = h("p", { class: "notice offline-note", role: "status", "data-testid": "password-offline" });
  const formError = h("p", { class: "error", role: "alert", "data-testid": "password-error", hidden: true });
  const doneNote = h("p", { class: "notice ok", role: "status", "data-testid": "password-done", hidden: true },
    t("my_password.done"));
  const saveButton = h("button", { type: "submit", class: "wide", "data-testid": "save-password" }, t("my_password.save"));
  const slots = {};

  function fieldBox(name, labelKey, hint) {
    slots[name] = h("span", { class: "field-errors", "data-testid": `error-${name}` });
    return h("label", { class: "field", "data-field": name },
      h("span", {}, t(labelKey)),
      inputs[name],
      hint ? h("small", { class: "muted" }, hint) : null,
      slots[name]);
  }

  const toggle = h("input", { type: "checkbox", "data-testid": "show-password",
                              onchange: (event) => { ui.show = event.target.checked; showPasswords(); } });
  const form = h("form", { class: "card pw-form", novalidate: true, onsubmit: submit, "data-testid": "password-form" },
    fieldBox("current_password", forced ? "my_password.current_forced" : "my_password.current"),
    fieldBox("new_password", "my_password.new", t("my_password.new_hint", { min: MIN_LENGTH })),
    h("label", { class: "check" }, toggle, h("span", {}, t("my_password.show"))),
    formError,
    saveButton);

  fill(root, h("div", { class: "ts-screen pw-screen", "data-testid": "password-screen",
                                  "data-forced": forced ? "true" : "false" },
    forced ? null : h("a", { class: "back", href: "#/sync" }, t("my_password.back")),
    h("h2", { class: "screen-title" }, t(forced ? "my_password.forced_title" : "my_password.title")),
    forced ? h("p", { class: "lead" }, t("my_password.forced_hint")) : null,
    forced ? h("p", { class: "muted" }, t("my_password.kept_hint")) : null,
    offlineNote, doneNote, form,
    h("p", { class: "muted" }, t("my_password.hint"))));

  function showPasswords() {
    for (const input of Object.values(inputs)) input.type = ui.show ? "text" : "password";
  }

  function drawNetwork() {
    const online = navigator.onLine;
    offlineNote.textContent = online ? "" : t(forced ? "my_password.offline_kept" : "my_password.offline");
    offlineNote.hidden = online;
    saveButton.disabled = ui.busy || !online;
  }

  function drawProblems() {
    for (const name of Object.keys(inputs)) {
      const messages = ui.problems[name] ?? [];
      slots[name].replaceChildren(...messages.map((m) => h("small", { class: "error", role: "alert" }, m)));
      inputs[name].setAttribute("aria-invalid", messages.length ? "true" : "false");
      inputs[name].closest("label").classList.toggle("invalid", messages.length > 0);
    }
    const general = ui.problems._form ?? [];
    formError.textContent = general.join(" ");
    formError.hidden = !general.length;
  }

  async function submit(event) {
    event.preventDefault();
    if (ui.busy) return;
    doneNote.hidden = true;
    const current = inputs.current_password.value;
    const next = inputs.new_password.value;
    const local = localProblems(current, next);
    if (Object.keys(local).length) {
      ui.problems = Object.fromEntries(Object.entries(local).map(([field, codes]) =>
        [field, codes.map((code) => t(`my_password.${code}`, { min: MIN_LENGTH }))]));
      drawProblems();
      inputs[Object.keys(local)[0]].focus();
      return;
    }
    if (!navigator.onLine) return drawNetwork();
    ui.busy = true;
    saveButton.textContent = t("my_password.saving");
    drawNetwork();
    try {
      await session.changePassword(current, next);
    } catch (error) {
      if (error.signedOut) return rerender(); // the token died meanwhile: the login screen says why
      ui.problems = error.offline ? { _form: [t(forced ? "my_password.offline_kept" : "my_password.offline")] }
        : problemsByField(error.fields?.length ? error.fields : [{ message: error.message }]);
      drawProblems();
      const first = Object.keys(inputs).find((name) => ui.problems[name]);
      if (first) inputs[first].focus();
      return;
    } finally {
      ui.busy = false;
      saveButton.textContent = t("my_password.save");
      drawNetwork();
    }
    ui.problems = {};
    drawProblems();
    if (forced) {
      go(""); // home: a technician's jobs, a butler's grid, a resident's requests
      rerender();
      startSync(); // what waited on the phone goes now
      return;
    }
    for (const input of Object.values(inputs)) input.value = "";
    doneNote.hidden = false;
  }

  window.addEventListener("online", drawNetwork);
  window.addEventListener("offline", drawNetwork);
  drawNetwork();
  drawProblems();
  if (navigator.onLine) inputs.current_password.focus();
  return () => {
    window.removeEventListener("online", drawNetwork);
    window.removeEventListener("offline", drawNetwork);
  };
}
