// The recipients of a campaign: status filter, error messages, keyset paging, CSV export.
import { get, qs } from '../api.js';
import { fill, fmtDate, fmtNumber, h } from '../dom.js';
import { failureInfo } from '../labels.js';

const PAGE = 50;
const STATUS_OPTIONS = [['', 'All statuses'], ['pending', 'Pending'], ['sent', 'Sent'], ['failed', 'Failed'], ['skipped', 'Skipped']];

export function recipientsTable(campaign) {
  let status = '';
  let errorClass = '';
  let cursors = [null];
  let page = 0;
  let next = null;

  const select = h('select', { id: 'recipient-status' }, STATUS_OPTIONS.map(([v, l]) => h('option', { value: v }, l)));
  const classNote = h('span', { class: 'chip', hidden: true });
  const exportLink = h('a', { class: 'btn btn-small', download: '' }, 'Export CSV');
  const tbody = h('tbody');
  const info = h('p', { class: 'muted small', 'aria-live': 'polite' });
  const prev = h('button', { type: 'button', class: 'btn btn-small', onclick: () => { page--; load(); } }, 'Previous');
  const nextBtn = h('button', { type: 'button', class: 'btn btn-small', onclick: () => { cursors[page + 1] = next; page++; load(); } }, 'Next');

  select.addEventListener('change', () => { status = select.value; errorClass = ''; reset(); });

  const el = h('section', { class: 'card', id: 'recipients', 'aria-labelledby': 'recipients-h' },
    h('div', { class: 'row-between wrap' },
      h('h2', { id: 'recipients-h', class: 'h3' }, 'Recipients'),
      h('div', { class: 'toolbar' }, h('label', { for: 'recipient-status', class: 'sr-only' }, 'Filter by status'), select, classNote, exportLink)),
    h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'recipients-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Provider user ID', 'Status', 'Error', 'Attempts', 'Time'].map((t) => h('th', { scope: 'col' }, t)))),
      tbody)),
    h('div', { class: 'row-between' }, info, h('div', { class: 'pager' }, prev, nextBtn)));

  function reset() {
    cursors = [null];
    page = 0;
    load();
  }

  async function load() {
    exportLink.href = `/api/v1/campaigns/${campaign.id}/recipients.csv${qs({ status })}`;
    classNote.hidden = !errorClass;
    classNote.textContent = errorClass ? `${failureInfo(errorClass).title} only` : '';
    if (campaign.stats.total === 0 && !campaign.timeline.startedAt) {
      fill(tbody, h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'Recipients are fixed when sending starts. Until then the audience may still change.')));
      prev.hidden = nextBtn.hidden = true;
      info.textContent = '';
      return;
    }
    const res = await get(`/campaigns/${campaign.id}/recipients${qs({ status, errorClass, limit: PAGE, cursor: cursors[page] })}`);
    next = res.nextCursor;
    fill(tbody, ...(res.items.length ? res.items.map((r) => h('tr', { dataset: { status: r.status } },
      h('td', {}, r.name || h('span', { class: 'muted' }, '(no name)')),
      h('td', {}, h('code', {}, r.providerUserId)),
      h('td', {}, h('span', { class: `badge badge-r-${r.status}` }, r.status)),
      h('td', { class: 'error-cell' }, r.errorClass ? [h('strong', {}, failureInfo(r.errorClass).title), r.errorCode ? h('span', { class: 'muted small' }, ` (${r.errorCode})`) : null, h('div', { class: 'small' }, r.errorMessage ?? '')] : '—'),
      h('td', { class: 'num' }, fmtNumber(r.attempts)),
      h('td', { class: 'small' }, fmtDate(r.sentAt ?? r.failedAt)))) : [h('tr', {}, h('td', { colspan: 6, class: 'muted' }, 'No recipients with this status.'))]));
    prev.hidden = page === 0;
    nextBtn.hidden = !next;
    info.textContent = res.items.length ? `Showing ${fmtNumber(page * PAGE + 1)}–${fmtNumber(page * PAGE + res.items.length)}` : '';
  }

  return {
    el,
    load,
    /** Shows the failed recipients of one failure class (from the failures panel). */
    showFailed(cls) {
      status = 'failed';
      select.value = 'failed';
      errorClass = cls ?? '';
      reset();
      el.scrollIntoView({ block: 'start' });
    },
    setCampaign(c) { campaign = c; },
  };
}
