// (to be built)
import { h } from "../dom.js";

export function visitView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
