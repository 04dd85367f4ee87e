// (to be built)
import { h } from "../dom.js";

export function syncView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
