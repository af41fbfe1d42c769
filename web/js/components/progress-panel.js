// Live progress of one campaign (bar, counters, rate, time left, why it waits), its delivery
// statistics and its timeline. update(event) takes a WebSocket progress event or a campaign.
import { fmtDate, fmtDuration, fmtNumber, fmtPercent, h } from '../dom.js';
import { WAITING_LABEL } from '../labels.js';

const COUNTERS = [
  ['total', 'Total recipients'],
  ['sent', 'Sent'],
  ['failed', 'Failed'],
  ['pending', 'Pending'],
  ['skipped', 'Skipped'],
  ['delivered', 'Delivered'],
  ['read', 'Read'],
];

export function progressPanel() {
  const barSent = h('div', { class: 'bar-sent' });
  const barFailed = h('div', { class: 'bar-failed' });
  const barSkipped = h('div', { class: 'bar-skipped' });
  const bar = h('div', { class: 'progress', role: 'progressbar', 'aria-label': 'Delivery progress', 'aria-valuemin': 0 }, barSent, barFailed, barSkipped);
  const pct = h('span', { class: 'progress-pct' });
  const values = {};
  const boxes = {};
  const counters = h('dl', { class: 'counters-grid', 'aria-live': 'polite', 'aria-atomic': 'true', id: 'live-counters' },
    COUNTERS.map(([key, label]) => {
      values[key] = h('dd', { dataset: { counter: key } }, '0');
      boxes[key] = h('div', { class: `counter counter-${key}` }, h('dt', {}, label), values[key]);
      return boxes[key];
    }));
  const rate = h('span', { id: 'live-rate' });
  const eta = h('span', { id: 'live-eta' });
  const waiting = h('p', { class: 'waiting', id: 'live-waiting', hidden: true });
  const rateLine = h('p', { class: 'rate-line muted' }, rate, ' · ', eta);

  const el = h('section', { class: 'card', 'aria-labelledby': 'progress-h' },
    h('div', { class: 'row-between' }, h('h2', { id: 'progress-h', class: 'h3' }, 'Progress'), pct),
    bar, counters, rateLine, waiting);

  function update(e) {
    const s = e.stats;
    const done = s.sent + s.failed + s.skipped;
    const w = (n) => (s.total ? `${(n / s.total) * 100}%` : '0');
    barSent.style.width = w(s.sent);
    barFailed.style.width = w(s.failed);
    barSkipped.style.width = w(s.skipped);
    bar.setAttribute('aria-valuemax', String(s.total));
    bar.setAttribute('aria-valuenow', String(done));
    bar.setAttribute('aria-valuetext', `${fmtNumber(done)} of ${fmtNumber(s.total)} processed`);
    pct.textContent = s.total ? `${Math.floor((done / s.total) * 100)}% done` : '';
    for (const [key] of COUNTERS) values[key].textContent = fmtNumber(s[key] ?? 0);
    boxes.skipped.hidden = !s.skipped;
    boxes.delivered.hidden = !s.delivered;
    boxes.read.hidden = !s.read;
    const sending = e.status === 'sending';
    rateLine.hidden = !sending;
    if (sending) {
      rate.textContent = `${fmtNumber(e.ratePerSecond ?? 0)} messages/s`;
      eta.textContent = e.etaSeconds !== null && e.etaSeconds !== undefined ? `about ${fmtDuration(e.etaSeconds * 1000)} left` : 'estimating time left…';
    }
    const reason = e.waitingReason && e.waitingReason !== 'scheduled' && e.waitingReason !== 'paused' ? WAITING_LABEL[e.waitingReason] ?? `Waiting: ${e.waitingReason}` : null;
    waiting.textContent = reason ?? '';
    waiting.hidden = !reason;
  }
  return { el, update };
}

/** Total, sent, failed and completion time: the reference's "Delivery Statistics". */
export function deliveryStats(c) {
  const s = c.stats;
  const item = (label, value, extra) => h('div', { class: 'stat' }, h('dt', {}, label), h('dd', {}, value, extra && s.total ? h('span', { class: 'muted small' }, ` ${extra}`) : null));
  return h('section', { class: 'card', 'aria-labelledby': 'stats-h' },
    h('h2', { id: 'stats-h', class: 'h3' }, 'Delivery statistics'),
    h('dl', { class: 'stats' },
      item('Total recipients', fmtNumber(s.total)),
      item('Successfully sent', fmtNumber(s.sent), fmtPercent(s.sent, s.total)),
      item('Failed', fmtNumber(s.failed), fmtPercent(s.failed, s.total)),
      s.skipped ? item('Skipped', fmtNumber(s.skipped), '(cancelled before sending)') : null,
      s.delivered ? item('Delivered', fmtNumber(s.delivered), fmtPercent(s.delivered, s.sent)) : null,
      s.read ? item('Read', fmtNumber(s.read), fmtPercent(s.read, s.sent)) : null,
      item('Completion time', c.completionTimeMs !== null ? fmtDuration(c.completionTimeMs) : c.status === 'sending' || c.status === 'paused' ? 'in progress' : '—')));
}

/** Created, scheduled, started, completed. */
export function timeline(c) {
  const t = c.timeline;
  const steps = [
    ['Created', t.createdAt],
    ['Scheduled', t.scheduledAt, c.status === 'scheduled' ? 'will start then' : t.scheduledAt ? '' : 'not scheduled'],
    ['Sending started', t.startedAt],
    [c.status === 'cancelled' ? 'Cancelled' : 'Completed', t.completedAt],
  ];
  return h('section', { class: 'card', 'aria-labelledby': 'timeline-h' },
    h('h2', { id: 'timeline-h', class: 'h3' }, 'Timeline'),
    h('ol', { class: 'timeline' }, steps.map(([label, at, note]) => h('li', { class: at ? 'done' : 'todo' },
      h('span', { class: 'tl-label' }, label),
      h('time', { datetime: at ?? '' }, at ? fmtDate(at) : note || '—')))));
}
