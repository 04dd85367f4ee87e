// The PWA's words: pwa/js/i18n.js holds the app's own (nav_grid, logout, …), and each view adds its
// words under one namespace (grid.*, tickets.*, outbox.*, …) with extend(). Every key a module asks
// for by name must exist, and a view's own words must be in that one style.
// Run: node --test tests/js
import assert from "node:assert/strict";
import { readFileSync, readdirSync } from "node:fs";
import { test } from "node:test";

const JS = new URL("../../pwa/js/", import.meta.url);
const VIEWS = new URL("views/", JS);

// What i18n.js reads as it loads (the saved language, the page's lang attribute); views need no more.
const saved = new Map();
globalThis.localStorage ??= { getItem: (k) => saved.get(k) ?? null, setItem: (k, v) => saved.set(k, String(v)) };
globalThis.document ??= { documentElement: {} };

const { setLang, t } = await import(new URL("i18n.js", JS));
const source = (url) => readFileSync(url, "utf8");
const viewFiles = readdirSync(VIEWS).filter((name) => name.endsWith(".js"));
// The views that add words (login.js and index.js add none, and load the app's shell, which needs a browser).
for (const name of viewFiles.filter((n) => source(new URL(n, VIEWS)).includes("extend({"))) {
  await import(new URL(name, VIEWS));
}
const modules = [
  ...readdirSync(JS).filter((name) => name.endsWith(".js")).map((name) => [name, source(new URL(name, JS))]),
  ...viewFiles.map((name) => [`views/${name}`, source(new URL(name, VIEWS))]),
];

/** Keys asked for as a whole literal: t("a.b"), and the resident screens' r("b") for resident.b. */
function literalKeys(text) {
  const keys = [...text.matchAll(/\bt\(\s*"([^"]+)"/g)].map((m) => m[1]);
  const resident = [...text.matchAll(/\br\(\s*"([^"]+)"/g)].map((m) => `resident.${m[1]}`);
  return [...keys, ...resident];
}

/** Every key a module names, whole or as the fixed start of a template (t(`tickets.escalated_${…}`)). */
function namedKeys(text) {
  const templates = [...text.matchAll(/\bt\(\s*`([a-z_.]*)\$\{/g)].map((m) => m[1]).filter(Boolean);
  return [...literalKeys(text), ...templates];
}

// The app's own top-level words: the keys of i18n.js's Chinese table, its first level only (the
// nested maps, such as roles: { butler: … }, written on one line, are left out).
const chineseTable = source(new URL("i18n.js", JS)).split('"zh-CN": {')[1].split("en: {")[0];
const core = new Set([...chineseTable.replace(/\{[^{}\n]*\}/g, "").matchAll(/(?:^|[\s,])([a-z_]+):/g)]
  .map((m) => m[1]));

test("every key a module asks for by name exists, in Chinese and in English", () => {
  const missing = [];
  for (const language of ["zh-CN", "en"]) {
    setLang(language);
    for (const [name, text] of modules) {
      for (const key of literalKeys(text)) if (t(key) === key) missing.push(`${language} ${name}: ${key}`);
    }
  }
  setLang("zh-CN");
  assert.deepEqual(missing, []);
});

test("a view's own words are under a namespace; only i18n.js's words stand alone", () => {
  const outliers = [];
  for (const [name, text] of modules) {
    for (const key of namedKeys(text)) {
      if (key.includes(".")) continue; // namespace.key: the one style
      // A whole key, or the start of one (t(`push_${state}`)), of the app's own table.
      if (!core.has(key) && ![...core].some((own) => own.startsWith(key) && key.endsWith("_"))) {
        outliers.push(`${name}: ${key}`);
      }
    }
  }
  assert.ok(core.has("nav_grid") && core.has("logout") && !core.has("butler")); // read as meant
  assert.deepEqual(outliers, []);
});

test("the renamed namespaces hold their words", () => {
  setLang("en");
  assert.equal(t("tickets.mine"), "My tickets");
  assert.equal(t("outbox.title"), "Sync");
  assert.equal(t("wording.field.building"), "Building");
  setLang("zh-CN");
  assert.equal(t("wording.error.other", { code: "x" }), "服务器拒绝了这条修改（x）。");
});
