// Joining a household over the network: invites (the butler's phone), joining with a code or asking
// without one (a new resident), the butler's pending requests, a household's residents. All of it
// needs the server at that moment (server/joining), so none of it is queued: offline, each call fails
// with `offline` and the screen keeps what was typed. The butler's last list of pending requests is
// kept (store meta) to be read with no signal.

import * as api from "./api.js";
import * as session from "./session.js";
import * as store from "./store.js";

export class JoinError extends Error {
  constructor(message, { offline = false, status = 0, body = {} } = {}) {
    super(message);
    this.offline = offline;
    this.status = status;
    this.body = body;
  }
}

async function call(method, path, body, options = {}) {
  let response;
  try {
    response = await api.request(method, path, body, options);
  } catch {
    throw new JoinError("offline", { offline: true });
  }
  if (response.status === 204) return null;
  const answer = await response.json().catch(() => ({}));
  if (!response.ok) throw new JoinError(answer.message || `HTTP ${response.status}`, { status: response.status, body: answer });
  return answer;
}

const PUBLIC = { token: null };

// ---- the butler's (or supervisor's) phone ----------------------------------------------------------------
export const issueInvite = (householdId, householdRole) =>
  call("POST", "/invites", { household_id: householdId, household_role: householdRole });
export const revokeInvite = (inviteId) => call("DELETE", `/invites/${encodeURIComponent(inviteId)}`);

/** The requests waiting for this butler, fetched now and kept for offline; offline, the kept list. */
export async function pendingRequests() {
  try {
    const { requests } = await call("GET", "/join-requests");
    await store.setMeta({ joinRequests: { requests, at: new Date().toISOString() } });
    return { requests, fresh: true };
  } catch (error) {
    if (!error.offline) throw error;
    const kept = store.meta.joinRequests;
    return { requests: kept?.requests ?? [], fresh: false, at: kept?.at ?? null };
  }
}

export async function decide(requestId, { approve, reason = "", householdRole } = {}) {
  const body = { approve };
  if (reason) body.reason = reason;
  if (householdRole) body.household_role = householdRole;
  const decided = await call("POST", `/join-requests/${encodeURIComponent(requestId)}/decision`, body);
  const kept = store.meta.joinRequests;
  if (kept) await store.setMeta({ joinRequests: { ...kept, requests: kept.requests.filter((r) => r.id !== requestId) } });
  return decided;
}

// ---- a new resident (no token yet) ------------------------------------------------------------------------
function account(fields, clientId) {
  return { username: fields.username, password: fields.password, name: fields.name,
           client_id: clientId, device_name: session.deviceName() };
}

/** Use an invite code: the new account is logged in on this phone. */
export async function join(code, fields) {
  const clientId = store.meta.clientId || store.uuid();
  const answer = await call("POST", "/join", { invite_code: code, ...account(fields, clientId) }, PUBLIC);
  await session.begin(answer, clientId);
  return answer.user;
}

export const communities = () => call("GET", "/join/communities", undefined, PUBLIC);
export const addresses = (communityId) =>
  call("GET", `/join/communities/${encodeURIComponent(communityId)}`, undefined, PUBLIC);

/** Ask to join one address: the account waits for the butler, logged in on this phone. */
export async function askToJoin(fields) {
  const { community_id, building, unit, room, owner_name, household_role } = fields;
  const clientId = store.meta.clientId || store.uuid();
  const answer = await call("POST", "/join/requests", { community_id, building, unit, room, owner_name,
                                                         household_role, ...account(fields, clientId) }, PUBLIC);
  await session.begin(answer, clientId);
  return answer;
}

// ---- a resident ---------------------------------------------------------------------------------------------
export const myRequest = () => call("GET", "/me/join-request");
export const housemates = () => call("GET", "/me/household/residents");
export const removeHousemate = (userId) => call("DELETE", `/me/household/residents/${encodeURIComponent(userId)}`);

/** The user as the server sees them now (a pending resident learns they were approved). */
export async function refreshMe() {
  const user = await call("GET", "/me");
  await store.setMeta({ user });
  return user;
}
