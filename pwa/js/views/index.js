// Screen name (the hash route) -> view(root, route, app) which fills root and may return a cleanup.

import { loginView } from "./login.js";
import { gridView } from "./grid.js";

export const routes = {
  login: loginView,
  grid: gridView,
};
