// 我的网格 My grid (a first cut; the full screen has search, filters and buildings).

import { h } from "../dom.js";
import { t } from "../i18n.js";
import * as store from "../store.js";

export function gridView(root) {
  const draw = () => {
    const households = store.all("household").sort((a, b) =>
      `${a.building}/${a.unit}/${a.room}`.localeCompare(`${b.building}/${b.unit}/${b.room}`, "zh-CN", { numeric: true }));
    root.replaceChildren(h("section", { class: "card" }, h("h2", {}, t("nav_grid")),
      h("ul", { class: "rows", "data-testid": "households" },
        households.map((x) => h("li", { "data-id": x.id }, `${x.building}栋 ${x.unit ?? ""} ${x.room}`)))));
  };
  draw();
  return store.subscribe(draw);
}
