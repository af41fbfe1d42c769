// DOM helpers: elements built with h() (text is always set as text, never parsed as HTML),
// formatting in the user's locale and time zone, toasts, screen-reader announcements, dialogs.

const BOOLEAN_PROPS = new Set(['disabled', 'hidden', 'checked', 'selected', 'required', 'readOnly', 'multiple', 'open']);

/** h('button', { class: 'btn', onclick: fn, 'aria-label': 'Close' }, 'Text', child, [more]) */
export function h(tag, props = {}, ...children) {
  const el = tag.startsWith('svg:') ? document.createElementNS('http://www.w3.org/2000/svg', tag.slice(4)) : document.createElement(tag);
  for (const [key, value] of Object.entries(props ?? {})) {
    if (value === undefined || value === null || value === false) continue;
    if (key.startsWith('on') && typeof value === 'function') el.addEventListener(key.slice(2), value);
    else if (key === 'class') el.setAttribute('class', Array.isArray(value) ? value.filter(Boolean).join(' ') : value);
    else if (key === 'text') el.textContent = String(value);
    else if (key === 'value' && 'value' in el) el.value = value;
    else if (BOOLEAN_PROPS.has(key)) el[key] = Boolean(value);
    else if (key === 'dataset') Object.assign(el.dataset, value);
    else el.setAttribute(key, value === true ? '' : String(value));
  }
  append(el, children);
  return el;
}

export function append(el, children) {
  for (const c of children.flat(Infinity)) {
    if (c === null || c === undefined || c === false) continue;
    el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
  return el;
}

/** Replaces an element's children (null, undefined and false are skipped, unlike replaceChildren). */
export function fill(el, ...children) {
  return append(clear(el), children);
}

export function clear(el) {
  while (el.firstChild) el.firstChild.remove();
  return el;
}

let idSeq = 0;
export const uid = (prefix = 'f') => `${prefix}-${++idSeq}`;

/**
 * A labelled form field: label, control, optional hint and error line wired with aria-describedby.
 * `labelFor` names the input when `control` is a wrapper (an input with a button beside it).
 */
export function field(label, control, { hint, error, labelFor } = {}) {
  const target = labelFor ?? control;
  const id = target.id || (target.id = uid());
  const hintEl = hint ? h('p', { class: 'hint', id: `${id}-hint` }, hint) : null;
  const errEl = h('p', { class: 'field-error', id: `${id}-error`, hidden: !error }, error ?? '');
  target.setAttribute('aria-describedby', [hintEl ? hintEl.id : null, errEl.id].filter(Boolean).join(' '));
  const wrap = h('div', { class: 'field' }, h('label', { for: id }, label), control, hintEl, errEl);
  wrap.setError = (msg) => {
    errEl.textContent = msg ?? '';
    errEl.hidden = !msg;
    target.setAttribute('aria-invalid', msg ? 'true' : 'false');
  };
  return wrap;
}

const numberFmt = new Intl.NumberFormat();
export const fmtNumber = (n) => (n === null || n === undefined ? '—' : numberFmt.format(n));
export const fmtPercent = (part, whole) => (whole > 0 ? `${Math.round((part / whole) * 1000) / 10}%` : '—');

const dateFmt = new Intl.DateTimeFormat(undefined, { dateStyle: 'medium', timeStyle: 'short' });
const timeFmt = new Intl.DateTimeFormat(undefined, { hour: '2-digit', minute: '2-digit', second: '2-digit' });
export const fmtDate = (iso) => (iso ? dateFmt.format(new Date(iso)) : '—');
export const fmtTime = (ms) => timeFmt.format(new Date(ms));
export const timeZone = () => Intl.DateTimeFormat().resolvedOptions().timeZone || 'local time';

/** 75_000 → "1 min 15 s" */
export function fmtDuration(ms) {
  if (ms === null || ms === undefined || !Number.isFinite(ms)) return '—';
  const s = Math.max(0, Math.round(ms / 1000));
  if (s < 60) return `${s} s`;
  const m = Math.floor(s / 60);
  if (m < 60) return `${m} min${s % 60 ? ` ${s % 60} s` : ''}`;
  const hrs = Math.floor(m / 60);
  if (hrs < 48) return `${hrs} h${m % 60 ? ` ${m % 60} min` : ''}`;
  return `${Math.floor(hrs / 24)} days ${hrs % 24} h`;
}

/** A Date as the value of <input type="datetime-local"> in the user's time zone. */
export function toLocalInput(date) {
  const pad = (n) => String(n).padStart(2, '0');
  return `${date.getFullYear()}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}T${pad(date.getHours())}:${pad(date.getMinutes())}`;
}

export function toast(message, kind = 'ok') {
  const box = document.getElementById('toasts');
  const t = h('div', { class: `toast toast-${kind}` }, message);
  box.append(t);
  setTimeout(() => t.remove(), kind === 'error' ? 8000 : 4000);
}

/** Says something to screen readers without showing it. */
export function announce(text) {
  const el = document.getElementById('announcer');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 30);
}

/** A modal confirmation (native <dialog>: focus trapped, Escape cancels). Resolves true on confirm. */
export function confirmDialog({ title, body, confirm = 'Confirm', danger = false, extra = null }) {
  return new Promise((resolve) => {
    const titleId = uid('dlg');
    const dlg = h('dialog', { class: 'dialog', 'aria-labelledby': titleId },
      h('form', { method: 'dialog' },
        h('h2', { id: titleId }, title),
        body ? h('p', {}, body) : null,
        extra,
        h('div', { class: 'actions' },
          h('button', { class: 'btn', value: 'cancel', type: 'submit' }, 'Cancel'),
          h('button', { class: danger ? 'btn btn-danger' : 'btn btn-primary', value: 'ok', type: 'submit' }, confirm))));
    document.body.append(dlg);
    dlg.addEventListener('close', () => {
      resolve(dlg.returnValue === 'ok');
      dlg.remove();
    });
    dlg.showModal();
    dlg.querySelector('.actions .btn:last-child').focus();
  });
}

/** A copy-to-clipboard button for a value shown next to it. */
export function copyButton(getValue, label = 'Copy') {
  return h('button', {
    type: 'button', class: 'btn btn-small',
    onclick: async (e) => {
      try {
        await navigator.clipboard.writeText(getValue());
        e.target.textContent = 'Copied';
      } catch {
        e.target.textContent = 'Select and copy';
      }
      setTimeout(() => { e.target.textContent = label; }, 2000);
    },
  }, label);
}

export function debounce(fn, ms) {
  let t = null;
  return (...args) => {
    clearTimeout(t);
    t = setTimeout(() => fn(...args), ms);
  };
}

/** An error box for a form: role=alert so it is read out when it appears. */
export function errorBox() {
  const el = h('div', { class: 'alert alert-error', role: 'alert', hidden: true });
  el.show = (msg) => { el.textContent = msg; el.hidden = !msg; };
  return el;
}
