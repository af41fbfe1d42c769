// Who is signed in: the answer of GET /api/v1/me, and role checks for showing buttons. The UI
// hides what a role may not do; the API refuses it anyway.
import { get } from './api.js';

const RANK = { viewer: 0, operator: 1, admin: 2 };
let me = null;

export async function loadMe() {
  me = await get('/me');
  return me;
}

export function currentUser() {
  return me;
}

export function forget() {
  me = null;
}

/** True when the signed-in role is at least `needed` (viewer < operator < admin). */
export function can(needed) {
  return me !== null && RANK[me.role] >= RANK[needed];
}
