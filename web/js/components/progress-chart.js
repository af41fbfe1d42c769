// Sent and failed over time, as an inline SVG: cumulative counts from the recipients' sentAt /
// failedAt (campaigns up to HISTORY_LIMIT recipients) plus every live progress event.
import { get } from '../api.js';
import { fill, fmtNumber, fmtTime, h } from '../dom.js';

const HISTORY_LIMIT = 5000;
const W = 640;
const H = 220;
const PAD = { l: 48, r: 12, t: 12, b: 28 };

const svg = (tag, attrs = {}, ...children) => h(`svg:${tag}`, attrs, ...children);

/** Cumulative points from recipient timestamps. */
async function history(campaignId) {
  const sent = [];
  const failed = [];
  let cursor = null;
  do {
    const page = await get(`/campaigns/${campaignId}/recipients?limit=1000${cursor ? `&cursor=${cursor}` : ''}`);
    for (const r of page.items) {
      if (r.sentAt) sent.push(Date.parse(r.sentAt));
      else if (r.failedAt) failed.push(Date.parse(r.failedAt));
    }
    cursor = page.nextCursor;
  } while (cursor);
  const events = [...sent.map((t) => [t, 1, 0]), ...failed.map((t) => [t, 0, 1])].sort((a, b) => a[0] - b[0]);
  const points = [];
  let s = 0;
  let f = 0;
  for (const [t, ds, df] of events) {
    s += ds;
    f += df;
    points.push({ t, sent: s, failed: f });
  }
  return points;
}

export function progressChart(campaign) {
  let points = [];
  let startedAt = campaign.timeline.startedAt ? Date.parse(campaign.timeline.startedAt) : null;
  const figure = h('figure', { class: 'chart' });
  const note = h('p', { class: 'muted small' });
  const el = h('section', { class: 'card', 'aria-labelledby': 'chart-h' },
    h('div', { class: 'row-between' }, h('h2', { id: 'chart-h', class: 'h3' }, 'Sent and failed over time'),
      h('div', { class: 'legend', 'aria-hidden': 'true' }, h('span', { class: 'key key-sent' }, 'Sent'), h('span', { class: 'key key-failed' }, 'Failed'))),
    figure, note);

  function draw() {
    const pts = startedAt ? [{ t: startedAt, sent: 0, failed: 0 }, ...points.filter((p) => p.t >= startedAt)] : points;
    if (pts.length < 2) {
      fill(figure, h('p', { class: 'muted chart-empty' }, startedAt ? 'Waiting for the first results…' : 'The chart appears once sending starts.'));
      return;
    }
    const t0 = pts[0].t;
    const t1 = Math.max(pts[pts.length - 1].t, t0 + 1000);
    const max = Math.max(1, ...pts.map((p) => Math.max(p.sent, p.failed)));
    const x = (t) => PAD.l + ((t - t0) / (t1 - t0)) * (W - PAD.l - PAD.r);
    const y = (v) => H - PAD.b - (v / max) * (H - PAD.t - PAD.b);
    const line = (key) => pts.map((p, i) => `${i ? 'L' : 'M'}${x(p.t).toFixed(1)},${y(p[key]).toFixed(1)}`).join(' ');
    const last = pts[pts.length - 1];
    const grid = [0, 0.5, 1].map((f) => {
      const v = Math.round(max * f);
      return svg('g', {}, svg('line', { x1: PAD.l, x2: W - PAD.r, y1: y(v), y2: y(v), class: 'grid' }), svg('text', { x: PAD.l - 6, y: y(v) + 4, 'text-anchor': 'end', class: 'axis' }, fmtNumber(v)));
    });
    const summary = `Sent rose to ${fmtNumber(last.sent)} and failed to ${fmtNumber(last.failed)} between ${fmtTime(t0)} and ${fmtTime(t1)}.`;
    fill(figure,
      svg('svg', { viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': summary },
        grid,
        svg('text', { x: PAD.l, y: H - 8, class: 'axis' }, fmtTime(t0)),
        svg('text', { x: W - PAD.r, y: H - 8, 'text-anchor': 'end', class: 'axis' }, fmtTime(t1)),
        svg('path', { d: line('sent'), class: 'line-sent' }),
        svg('path', { d: line('failed'), class: 'line-failed' })),
      h('figcaption', { class: 'sr-only' }, summary));
  }

  return {
    el,
    /** Loads the history from the recipients (skipped for very large campaigns). */
    async load() {
      if (!startedAt) return draw();
      if (campaign.stats.total <= HISTORY_LIMIT) {
        try { points = await history(campaign.id); } catch { points = []; }
      } else {
        note.textContent = `Drawn from live updates while this page is open (the full history is drawn for campaigns up to ${fmtNumber(HISTORY_LIMIT)} recipients).`;
        const end = campaign.timeline.completedAt ? Date.parse(campaign.timeline.completedAt) : Date.now();
        points = [{ t: end, sent: campaign.stats.sent, failed: campaign.stats.failed }];
      }
      draw();
    },
    /** The campaign started while the page was open. */
    setCampaign(c) {
      if (!startedAt && c.timeline.startedAt) {
        startedAt = Date.parse(c.timeline.startedAt);
        draw();
      }
    },
    /** Adds a live progress event. */
    add(e) {
      const t = Date.parse(e.at ?? new Date().toISOString());
      const prev = points[points.length - 1];
      if (prev && prev.sent === e.stats.sent && prev.failed === e.stats.failed) return;
      if (!prev || t >= prev.t) points.push({ t, sent: e.stats.sent, failed: e.stats.failed });
      draw();
    },
  };
}
