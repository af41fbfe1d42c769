// Campaign list: status, channel, counters and the relevant time of every campaign, filtered by
// status, with live counters for the ones sending (WebSocket subscription to "*").
import { get, qs } from '../api.js';
import { announce, fill, fmtDate, fmtNumber, h } from '../dom.js';
import { STATUSES, STATUS_LABEL, providerLabel, statusBadge } from '../labels.js';
import { subscribe } from '../live.js';
import { can } from '../session.js';

const FINAL = ['sent', 'failed', 'partial', 'cancelled'];

function whenOf(c) {
  const t = c.timeline;
  if (c.status === 'scheduled') return ['Scheduled for', t.scheduledAt];
  if (t.completedAt) return ['Completed', t.completedAt];
  if (t.startedAt) return ['Started', t.startedAt];
  return ['Created', t.createdAt];
}

/** The sent / failed / total cell with a small two-colour bar; updated in place by live events. */
function countersCell(stats) {
  const sent = h('span', { class: 'n-sent', dataset: { field: 'sent' } });
  const failed = h('span', { class: 'n-failed', dataset: { field: 'failed' } });
  const total = h('span', { dataset: { field: 'total' } });
  const barSent = h('span', { class: 'bar-sent' });
  const barFailed = h('span', { class: 'bar-failed' });
  const cell = h('td', { class: 'counters' },
    h('div', {}, sent, h('span', { class: 'sep' }, ' sent · '), failed, h('span', { class: 'sep' }, ' failed · '), total, h('span', { class: 'sep' }, ' total')),
    h('div', { class: 'minibar', 'aria-hidden': 'true' }, barSent, barFailed));
  cell.update = (s) => {
    sent.textContent = fmtNumber(s.sent);
    failed.textContent = fmtNumber(s.failed);
    total.textContent = fmtNumber(s.total);
    barSent.style.width = s.total ? `${(s.sent / s.total) * 100}%` : '0';
    barFailed.style.width = s.total ? `${(s.failed / s.total) * 100}%` : '0';
  };
  cell.update(stats);
  return cell;
}

function row(c, channels) {
  const ch = channels.get(c.channelId);
  const [whenLabel, whenAt] = whenOf(c);
  const counters = countersCell(c.stats);
  const badgeCell = h('td', { dataset: { field: 'status' } }, statusBadge(c.status));
  const whenCell = h('td', { class: 'when' }, h('span', { class: 'muted small' }, whenLabel), h('br'), fmtDate(whenAt));
  const tr = h('tr', { dataset: { campaignId: c.id, status: c.status } },
    h('td', { class: 'name' }, h('a', { href: `/campaigns/${c.id}` }, c.name), c.parentCampaignId ? h('span', { class: 'muted small' }, ' · retry') : null),
    badgeCell,
    h('td', {}, ch ? ch.name : h('span', { class: 'muted' }, 'deleted channel'), ch ? h('div', { class: 'muted small' }, providerLabel(ch.provider)) : null),
    counters,
    whenCell);
  tr.live = (e) => {
    counters.update(e.stats);
    if (e.status !== tr.dataset.status) {
      tr.dataset.status = e.status;
      fill(badgeCell, statusBadge(e.status));
      announce(`${c.name}: ${STATUS_LABEL[e.status] ?? e.status}`);
      if (FINAL.includes(e.status) || e.status === 'sending') {
        get(`/campaigns/${c.id}`).then((fresh) => {
          const [l, at] = whenOf(fresh);
          fill(whenCell, h('span', { class: 'muted small' }, l), h('br'), fmtDate(at));
        }).catch(() => {});
      }
    }
  };
  return tr;
}

export async function render(ctx) {
  ctx.title('Campaigns');
  const status = ctx.query.get('status') ?? '';
  const [channelList, page] = await Promise.all([get('/channels'), get(`/campaigns${qs({ status, limit: 50 })}`)]);
  const channels = new Map(channelList.items.map((c) => [c.id, c]));
  const rows = new Map();
  const tbody = h('tbody');
  let cursor = page.nextCursor;

  const addRows = (items) => {
    for (const c of items) {
      const tr = row(c, channels);
      rows.set(c.id, tr);
      tbody.append(tr);
    }
  };
  addRows(page.items);

  const more = h('button', { class: 'btn', type: 'button', hidden: !cursor, onclick: async () => {
    more.disabled = true;
    const next = await get(`/campaigns${qs({ status, limit: 50, cursor })}`);
    addRows(next.items);
    cursor = next.nextCursor;
    more.hidden = !cursor;
    more.disabled = false;
  } }, 'Load more');

  const filters = h('nav', { class: 'filters', 'aria-label': 'Filter by status' },
    h('a', { href: '/campaigns', class: 'chip', 'aria-current': status === '' ? 'true' : null }, 'All'),
    STATUSES.map((s) => h('a', { href: `/campaigns?status=${s}`, class: 'chip', 'aria-current': status === s ? 'true' : null }, STATUS_LABEL[s])));

  const empty = page.items.length === 0
    ? h('div', { class: 'empty' },
      h('p', {}, status ? `No ${STATUS_LABEL[status].toLowerCase()} campaigns.` : 'No campaigns yet.'),
      channels.size === 0
        ? h('p', {}, 'Start by ', h('a', { href: '/channels' }, 'connecting a channel'), ' and importing contacts.')
        : can('operator') && !status ? h('a', { class: 'btn btn-primary', href: '/campaigns/new' }, 'Create your first campaign') : null)
    : null;

  ctx.main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' },
      h('h1', {}, 'Campaigns'),
      can('operator') ? h('a', { class: 'btn btn-primary', href: '/campaigns/new' }, 'New campaign') : null),
    filters,
    empty ?? h('div', { class: 'card table-card' }, h('table', { class: 'table cards', id: 'campaign-table' },
      h('caption', { class: 'sr-only' }, 'Campaigns, newest first'),
      h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Name'), h('th', { scope: 'col' }, 'Status'), h('th', { scope: 'col' }, 'Channel'), h('th', { scope: 'col' }, 'Sent / failed / total'), h('th', { scope: 'col' }, 'When'))),
      tbody)),
    h('div', { class: 'center' }, more)));

  ctx.onCleanup(subscribe('*', (e) => rows.get(e.campaignId)?.live(e)));
}
