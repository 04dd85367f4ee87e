// HTTP to our own server: the bearer token, the user's language, a timeout. Only store.js-level
// modules (sync.js, session.js) call it; views never fetch.

import { lang } from "./i18n.js";
import * as store from "./store.js";

const BASE = "/api/v1";

export async function request(method, path, body, { timeoutMs = 20_000, token = store.meta.token } = {}) {
  const headers = { "Accept-Language": lang() };
  if (body !== undefined) headers["Content-Type"] = "application/json";
  if (token) headers.Authorization = `Bearer ${token}`;
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  try {
    return await fetch(`${BASE}${path}`, {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: controller.signal,
      cache: "no-store",
    });
  } finally {
    clearTimeout(timer);
  }
}

export const get = (path, options) => request("GET", path, undefined, options);
export const post = (path, body, options) => request("POST", path, body, options);
