// (to be built)
import { h } from "../dom.js";

export function touchpointView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
