// Live campaign events over the WebSocket /api/v1/ws (the session cookie authenticates it).
// One shared connection: subscribe(campaignId | '*', fn) returns an unsubscribe function. The
// connection reconnects with backoff and re-subscribes; the server answers each subscription with
// the current state, so nothing is missed across a reconnect.

const listeners = new Map();
let socket = null;
let retry = 0;
let retryTimer = null;
const stateListeners = new Set();
let state = 'closed';

function setState(s) {
  state = s;
  for (const fn of stateListeners) fn(s);
}

export const connectionState = () => state;

export function onConnectionState(fn) {
  stateListeners.add(fn);
  fn(state);
  return () => stateListeners.delete(fn);
}

function sendSubscribe(id) {
  if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'subscribe', campaignId: id }));
}

function connect() {
  clearTimeout(retryTimer);
  const url = `${location.protocol === 'https:' ? 'wss' : 'ws'}://${location.host}/api/v1/ws`;
  socket = new WebSocket(url);
  setState('connecting');
  socket.addEventListener('open', () => {
    retry = 0;
    setState('open');
    for (const id of listeners.keys()) sendSubscribe(id);
  });
  socket.addEventListener('message', (m) => {
    let msg;
    try { msg = JSON.parse(m.data); } catch { return; }
    if (msg.type !== 'campaign.progress') return;
    for (const id of [msg.campaignId, '*']) for (const fn of listeners.get(id) ?? []) fn(msg);
  });
  socket.addEventListener('close', () => {
    socket = null;
    setState('closed');
    if (listeners.size === 0) return;
    retry = Math.min(retry + 1, 6);
    retryTimer = setTimeout(connect, 500 * 2 ** (retry - 1) + Math.random() * 300);
  });
}

export function subscribe(campaignId, fn) {
  let set = listeners.get(campaignId);
  if (!set) {
    set = new Set();
    listeners.set(campaignId, set);
    if (socket) sendSubscribe(campaignId);
  }
  set.add(fn);
  if (!socket) connect();
  return () => {
    set.delete(fn);
    if (set.size > 0) return;
    listeners.delete(campaignId);
    if (socket?.readyState === WebSocket.OPEN) socket.send(JSON.stringify({ type: 'unsubscribe', campaignId }));
  };
}

/** Closes the connection (sign-out). */
export function disconnect() {
  listeners.clear();
  clearTimeout(retryTimer);
  socket?.close();
}
