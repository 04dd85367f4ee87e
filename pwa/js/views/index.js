// Screen name (the hash route) -> view(root, route, app) which fills root and may return a cleanup.
// Routes: #/grid, #/household/<id>, #/visit/<household id>[/<visit id>], #/touchpoint/<household id>,
// #/custody/<household id> (a custody inspection),
// #/recommend/<household id>, #/incident[/<id>], #/incident-new (突发事件), #/tickets, #/ticket/<id>, #/orders, #/notices, #/notice/<id>, #/sync.
// A resident's (app.js picks them by role): #/mine, #/report, #/request/<id>, #/services, #/notices,
// #/notice/<id>, #/voice, #/poll/<id>, #/activity/<id>, #/sync, #/members. Joining: #/invite/<household id> and #/join-requests (a butler),
// #/join?code=… and #/ask (nobody logged in), #/pending (a resident bound to no household yet). A technician's (the back office):
// #/jobs, #/pool, #/ticket/<id>, #/sync. Everyone's: #/password (修改密码; the only screen while a
// supervisor's password must still be changed).

import { jobsView, poolView } from "./backoffice.js";
import { custodyView } from "./custody.js";
import { gridView } from "./grid.js";
import { householdView } from "./household.js";
import { incidentNewView, incidentView } from "./incident.js";
import { askView, inviteView, joinRequestsView, joinView, membersView, pendingView } from "./joining.js";
import { loginView } from "./login.js";
import { ordersView } from "./orders.js";
import { passwordView } from "./password.js";
import { recommendView } from "./recommend.js";
import {
  residentHomeView, residentNoticeView, residentNoticesView, residentReportView, residentRequestView,
  residentServicesView,
} from "./resident.js";
import { syncView } from "./outbox.js";
import { ticketView, ticketsView } from "./tickets.js";
import { touchpointView } from "./touchpoint.js";
import { visitView } from "./visit.js";
import { activityView, pollView, voiceView } from "./voice.js";

export const routes = {
  login: loginView,
  grid: gridView,
  household: householdView,
  visit: visitView,
  custody: custodyView,
  touchpoint: touchpointView,
  recommend: recommendView,
  tickets: ticketsView,
  orders: ordersView,
  ticket: ticketView,
  sync: syncView,
  mine: residentHomeView,
  report: residentReportView,
  request: residentRequestView,
  services: residentServicesView,
  notices: residentNoticesView,
  notice: residentNoticeView,
  invite: inviteView,
  "join-requests": joinRequestsView,
  join: joinView,
  ask: askView,
  pending: pendingView,
  members: membersView,
  jobs: jobsView,
  pool: poolView,
  password: passwordView,
  incident: incidentView,
  "incident-new": incidentNewView,
  voice: voiceView,
  poll: pollView,
  activity: activityView,
};
