// CSV import of contacts with an upload progress bar (XMLHttpRequest reports upload progress)
// and a report of rejected rows. A file without a channel_id column gets one added in the browser
// for the channel picked here, so exports from other tools import as they are.
import { upload } from '../api.js';
import { errorBox, field, fill, fmtNumber, h } from '../dom.js';

/** Splits CSV text into raw records (newlines inside quotes do not end a record). */
export function csvRecords(text) {
  const out = [];
  let start = 0;
  let quoted = false;
  for (let i = 0; i < text.length; i++) {
    const ch = text[i];
    if (ch === '"') quoted = !quoted;
    else if (ch === '\n' && !quoted) {
      out.push(text.slice(start, i).replace(/\r$/, ''));
      start = i + 1;
    }
  }
  if (start < text.length) out.push(text.slice(start).replace(/\r$/, ''));
  return out;
}

function headerColumns(record) {
  return (record ?? '').replace(/^\uFEFF/, '').split(',').map((c) => c.trim().replace(/^"|"$/g, '').toLowerCase());
}

const SAMPLE = 'name,provider_user_id,tags\nAda Lovelace,15551230001,vip;newsletter\nBen Okafor,15551230002,newsletter\n';

export function csvImport(channels, onDone) {
  const err = errorBox();
  const file = h('input', { type: 'file', id: 'csv-file', accept: '.csv,text/csv', required: true });
  const channel = h('select', { id: 'csv-channel' }, h('option', { value: '' }, '— the file has a channel_id column —'), channels.map((c) => h('option', { value: c.id }, c.name)));
  if (channels.length === 1) channel.value = channels[0].id;
  const bar = h('progress', { id: 'csv-progress', max: 100, value: 0 });
  const barLabel = h('span', { id: 'csv-progress-label', 'aria-live': 'polite' });
  const progressRow = h('div', { class: 'progress-row', hidden: true }, h('label', { for: 'csv-progress' }, 'Upload'), bar, barLabel);
  const report = h('div', { id: 'import-report', 'aria-live': 'polite' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Import');
  const sample = h('a', { href: `data:text/csv;charset=utf-8,${encodeURIComponent(SAMPLE)}`, download: 'herald-contacts-sample.csv' }, 'Download a sample file');

  const form = h('form', { id: 'csv-import', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    fill(report);
    const f = file.files?.[0];
    if (!f) return err.show('Choose a CSV file first.');
    let text = await f.text();
    const records = csvRecords(text);
    const cols = headerColumns(records[0]);
    if (!cols.includes('channel_id')) {
      if (!channel.value) return err.show('This file has no channel_id column: pick the channel its contacts belong to.');
      if (!cols.includes('provider_user_id')) return err.show('The header row must name a provider_user_id column (and optionally name and tags).');
      text = records.map((r, i) => (r === '' ? r : `${r},${i === 0 ? 'channel_id' : channel.value}`)).join('\n');
    }
    submit.disabled = true;
    progressRow.hidden = false;
    bar.value = 0;
    barLabel.textContent = '0%';
    try {
      const res = await upload('/contacts/import', new Blob([text], { type: 'text/csv' }), 'text/csv', (p) => {
        bar.value = Math.round(p * 100);
        barLabel.textContent = p >= 1 ? 'Uploaded; importing…' : `${Math.round(p * 100)}%`;
      });
      bar.value = 100;
      barLabel.textContent = 'Done';
      fill(report,
        h('p', { class: res.rejected ? 'alert alert-warn' : 'alert alert-ok' },
          h('strong', {}, `${fmtNumber(res.imported)} imported`), `, ${fmtNumber(res.updated)} updated, `, h('strong', {}, `${fmtNumber(res.rejected)} rejected`), '.'),
        res.rejectedRows.length ? h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'rejected-rows' },
          h('caption', {}, 'Rejected rows (row 1 is the header)'),
          h('thead', {}, h('tr', {}, h('th', { scope: 'col' }, 'Row'), h('th', { scope: 'col' }, 'Reason'))),
          h('tbody', {}, res.rejectedRows.slice(0, 200).map((r) => h('tr', {}, h('td', { class: 'num' }, String(r.row)), h('td', {}, r.reason)))))) : null,
        res.rejectedRows.length > 200 ? h('p', { class: 'muted small' }, `The first 200 of ${fmtNumber(res.rejected)} are shown.`) : null);
      onDone?.();
    } catch (ex) {
      err.show(ex.message);
      barLabel.textContent = 'Failed';
    } finally {
      submit.disabled = false;
    }
  } },
  h('p', { class: 'hint' }, 'Columns: name, provider_user_id, tags (separated by ";"), and channel_id unless you pick the channel here. Existing contacts (same channel and provider user ID) are updated. ', sample, '.'),
  err,
  h('div', { class: 'grid-2' }, field('CSV file', file), field('Channel', channel, { hint: 'Used for rows of a file without a channel_id column.' })),
  progressRow,
  h('div', { class: 'form-actions' }, submit),
  report);
  return form;
}
