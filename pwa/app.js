// The app shell's first screen: log in, see who you are, log out.
// Issue 4 grows this into the offline butler app (storage, sync client, views in layers).

const TEXT = {
  "zh-CN": { switch: "English", login: "登录", username: "用户名", password: "密码", submit: "登录",
             hello: "您好，", logout: "退出登录", offline: "网络不可用，请稍后再试。",
             roles: { butler: "管家", resident: "住户", supervisor: "主管", admin: "管理员" } },
  en: { switch: "中文", login: "Log in", username: "Username", password: "Password", submit: "Log in",
        hello: "Hello, ", logout: "Log out", offline: "No network; please try again later.",
        roles: { butler: "Butler", resident: "Resident", supervisor: "Supervisor", admin: "Administrator" } },
};
const TOKEN_KEY = "guanjia.token";
const USER_KEY = "guanjia.user";
let lang = localStorage.getItem("guanjia.lang") || "zh-CN";

function t(key) { return TEXT[lang][key]; }

function render() {
  document.documentElement.lang = lang;
  for (const el of document.querySelectorAll("[data-i18n]")) el.textContent = t(el.dataset.i18n);
  const user = JSON.parse(localStorage.getItem(USER_KEY) || "null");
  document.getElementById("login").hidden = Boolean(user);
  document.getElementById("home").hidden = !user;
  if (user) {
    document.getElementById("name").textContent = user.name;
    document.getElementById("role").textContent = t("roles")[user.role] || user.role;
  }
}

async function api(path, options = {}) {
  const token = localStorage.getItem(TOKEN_KEY);
  const headers = { "Content-Type": "application/json", "Accept-Language": lang };
  if (token) headers.Authorization = `Bearer ${token}`;
  return fetch(`/api/v1${path}`, { ...options, headers });
}

document.getElementById("login").addEventListener("submit", async (event) => {
  event.preventDefault();
  const form = new FormData(event.target);
  const error = document.getElementById("error");
  error.hidden = true;
  let response;
  try {
    response = await api("/auth/login", { method: "POST", body: JSON.stringify({
      username: form.get("username"), password: form.get("password"), device_name: navigator.userAgent.slice(0, 100) }) });
  } catch {
    error.textContent = t("offline");
    error.hidden = false;
    return;
  }
  const body = await response.json();
  if (!response.ok) {
    error.textContent = body.message;
    error.hidden = false;
    return;
  }
  localStorage.setItem(TOKEN_KEY, body.token);
  localStorage.setItem(USER_KEY, JSON.stringify(body.user));
  event.target.reset();
  render();
});

document.getElementById("logout").addEventListener("click", async () => {
  try { await api("/auth/logout", { method: "POST" }); } catch { /* the token dies with the local copy */ }
  localStorage.removeItem(TOKEN_KEY);
  localStorage.removeItem(USER_KEY);
  render();
});

document.getElementById("lang").addEventListener("click", () => {
  lang = lang === "zh-CN" ? "en" : "zh-CN";
  localStorage.setItem("guanjia.lang", lang);
  render();
});

render();
