// (to be built)
import { h } from "../dom.js";

export function recommendView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
