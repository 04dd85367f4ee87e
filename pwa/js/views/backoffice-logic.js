// The back office's app (工程, 保洁, 秩序, 外委 technicians), pure logic: their tabs, which screens they
// may open, which tickets are their jobs and which wait in their team's pool (抢单), and the hand-offs
// of a ticket as its timeline reads them. No DOM, no store (backoffice.js adds those), so that Node's
// test runner checks it (tests/js). The server's rules are server/tickets/handoff.py.

/** A technician's tabs, in order: route name and the i18n key of its label. */
export const TECH_TABS = [["jobs", "nav_jobs"], ["pool", "nav_pool"], ["sync", "nav_sync"]];
export const TECH_HOME = "jobs";

const TECH_ROUTES = new Set(["jobs", "pool", "ticket", "sync", "password"]);

/** The screen a technician sees for a route: their own, or their home for a butler's screen. */
export function techRoute(route) {
  if (TECH_ROUTES.has(route.name)) return route;
  if (route.name === "tickets") return { ...route, name: TECH_HOME };
  return { name: TECH_HOME, args: [], query: {} };
}

const WAITING = new Set(["new", "dispatched"]);
const OPEN = new Set(["new", "dispatched", "accepted", "in_progress"]);
export const HANDABLE = OPEN; // the server hands on only tickets not yet resolved

/** The team the user works in: the one whose members name them. */
export function teamOf(teams, userId) {
  return (teams ?? []).find((team) => (team.members ?? []).some((m) => m.id === userId)) ?? null;
}

/** My jobs (我的工单): handed to me and not finished (resolved ones stay until closed, to be seen done). */
export function isMyJob(ticket, userId) {
  return Boolean(ticket) && ticket.assignee_id === userId && ticket.status !== "closed" && ticket.status !== "cancelled";
}

/** The pool (抢单): handed to my team with nobody named, waiting to be taken. */
export function isPoolJob(ticket, teamId) {
  return Boolean(ticket && teamId) && ticket.team_id === teamId && !ticket.assignee_id && WAITING.has(ticket.status);
}

/** What a technician may do with a ticket now. */
export function techActions(ticket, userId, teamId) {
  const mine = ticket?.assignee_id === userId;
  const pooled = isPoolJob(ticket, teamId);
  const status = ticket?.status;
  return {
    grab: pooled,
    accept: mine && WAITING.has(status),
    start: mine && status === "accepted",
    finish: mine && (status === "accepted" || status === "in_progress"),
    handOn: (mine || pooled) && OPEN.has(status), // 转派 or 退回
  };
}

/** The ticket's hand-offs as timeline steps: [{kind, at, team, person, note}], oldest first, with the
 * team's and person's names from the teams on the phone (a name it does not know stays empty). */
export function handoffSteps(ticket, teams) {
  const teamName = new Map((teams ?? []).map((team) => [team.id, team.name]));
  const personName = new Map((teams ?? []).flatMap((team) => (team.members ?? []).map((m) => [m.id, m.name])));
  return (ticket?.handoffs ?? []).map((h) => ({
    kind: h.kind, at: h.at ?? null, team: h.team_id ? teamName.get(h.team_id) ?? "" : "",
    person: h.assignee_id ? personName.get(h.assignee_id) ?? "" : "", note: h.note ?? "",
  }));
}

/** Oldest first, by when it was handed on (or raised). */
export function byHanded(a, b) {
  return String(a.handed_at ?? a.created_at ?? "\uffff").localeCompare(String(b.handed_at ?? b.created_at ?? "\uffff"));
}
