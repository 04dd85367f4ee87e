// 登录 Log in: fields named username and password (the browser's password manager fills them).

import { fill, h } from "../dom.js";
import { t } from "../i18n.js";
import * as session from "../session.js";
import { startSync } from "../app.js";

export function loginView(root, _route, { rerender }) {
  const error = h("p", { class: "error", role: "alert", hidden: true });
  const reason = session.takeEndReason(); // the server ended the last session: say why, once
  const notice = reason ? h("p", { class: "notice", role: "status", "data-testid": `ended-${reason}` }, t(reason)) : null;
  const form = h("form", { id: "login", class: "card", autocomplete: "on", onsubmit: submit },
    h("h2", {}, t("login")),
    notice,
    h("label", {}, h("span", {}, t("username")),
      h("input", { name: "username", autocomplete: "username", required: true, autocapitalize: "off" })),
    h("label", {}, h("span", {}, t("password")),
      h("input", { name: "password", type: "password", autocomplete: "current-password", required: true })),
    h("button", { type: "submit" }, t("submit")),
    error);
  const links = h("p", { class: "join-links" },
    h("a", { href: "#/join", class: "join-link", "data-testid": "link-join" }, t("have_invite")),
    h("a", { href: "#/ask", class: "join-link", "data-testid": "link-ask" }, t("ask_to_join")));
  fill(root, form, links);

  async function submit(event) {
    event.preventDefault();
    const data = new FormData(form);
    error.hidden = true;
    form.querySelector("button").disabled = true;
    try {
      const user = await session.login(String(data.get("username")), String(data.get("password")));
      if (user.must_change_password) {
        // A supervisor chose this password: the user sets their own first; syncing waits till then.
        location.hash = "#/password";
        rerender();
        return;
      }
      location.hash = "#/grid";
      rerender();
      startSync();
    } catch (e) {
      error.textContent = e.message === "offline" ? t("offline_login") : e.message;
      error.hidden = false;
    } finally {
      form.querySelector("button").disabled = false;
    }
  }
}
