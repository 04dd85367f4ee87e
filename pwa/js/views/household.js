// (to be built)
import { h } from "../dom.js";

export function householdView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
