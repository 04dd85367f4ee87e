// (to be built)
import { h } from "../dom.js";

export function ticketsView(root) {
  root.replaceChildren(h("p", {}, "…"));
}

export function ticketView(root) {
  root.replaceChildren(h("p", {}, "…"));
}
