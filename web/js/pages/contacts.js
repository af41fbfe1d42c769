// Contacts: search, filter by tag and channel, edit tags, opt a channel identity out or back in,
// and import a CSV (operators).
import { get, patch, qs } from '../api.js';
import { debounce, fill, fmtDate, h, toast } from '../dom.js';
import { providerLabel } from '../labels.js';
import { can } from '../session.js';
import { csvImport } from '../components/csv-import.js';

function tagsEditor(contact, onSaved) {
  const cell = h('td', { class: 'tags-cell' });
  const show = () => {
    fill(cell,
      h('span', { class: 'chips' }, contact.tags.length ? contact.tags.map((t) => h('span', { class: 'chip' }, t)) : h('span', { class: 'muted small' }, 'no tags')),
      can('operator') ? h('button', { type: 'button', class: 'btn btn-small btn-link', 'aria-label': `Edit tags of ${contact.name || 'contact'}`, onclick: edit }, 'Edit') : null);
  };
  const edit = () => {
    const input = h('input', { value: contact.tags.join(', '), 'aria-label': `Tags of ${contact.name || 'contact'}, separated by commas`, class: 'input-tags' });
    const save = async () => {
      const tags = [...new Set(input.value.split(/[,;]/).map((t) => t.trim()).filter(Boolean))];
      try {
        Object.assign(contact, await patch(`/contacts/${contact.id}`, { tags }));
        toast('Tags saved');
        onSaved?.();
        show();
      } catch (ex) { toast(ex.message, 'error'); }
    };
    input.addEventListener('keydown', (e) => { if (e.key === 'Enter') { e.preventDefault(); save(); } if (e.key === 'Escape') show(); });
    fill(cell, input, h('button', { type: 'button', class: 'btn btn-small', onclick: save }, 'Save'), h('button', { type: 'button', class: 'btn btn-small btn-link', onclick: show }, 'Cancel'));
    input.focus();
  };
  show();
  return cell;
}

function identitiesCell(contact, channels) {
  const cell = h('td');
  const show = () => fill(cell, h('ul', { class: 'identities' }, contact.identities.map((idn, n) => {
    const ch = channels.get(idn.channelId);
    return h('li', {},
      h('span', { class: 'muted small' }, ch ? `${ch.name} (${providerLabel(ch.provider)})` : 'deleted channel'), ' ',
      h('code', {}, idn.providerUserId), ' ',
      idn.optedOut ? h('span', { class: 'badge badge-failed', title: idn.optedOutAt ? `since ${fmtDate(new Date(idn.optedOutAt).toISOString())}` : '' }, 'Opted out') : h('span', { class: 'badge badge-sent' }, 'Subscribed'),
      can('operator') ? h('button', { type: 'button', class: 'btn btn-small btn-link', onclick: async () => {
        const identities = contact.identities.map((x, i) => ({ channelId: x.channelId, providerUserId: x.providerUserId, optedOut: i === n ? !x.optedOut : x.optedOut }));
        try {
          Object.assign(contact, await patch(`/contacts/${contact.id}`, { identities }));
          toast(contact.identities[n].optedOut ? 'Opted out: campaigns on this channel skip this person' : 'Opted back in');
          show();
        } catch (ex) { toast(ex.message, 'error'); }
      } }, idn.optedOut ? 'Opt back in' : 'Opt out') : null);
  })));
  show();
  return cell;
}

export async function render(ctx) {
  ctx.title('Contacts');
  const [channelList, tagList] = await Promise.all([get('/channels'), get('/tags')]);
  const channels = new Map(channelList.items.map((c) => [c.id, c]));
  const q = h('input', { type: 'search', id: 'contact-search', placeholder: 'Name or provider user ID' });
  const tag = h('select', { id: 'contact-tag' }, h('option', { value: '' }, 'All tags'));
  const channel = h('select', { id: 'contact-channel' }, h('option', { value: '' }, 'All channels'), channelList.items.map((c) => h('option', { value: c.id }, c.name)));
  const fillTags = (items) => fill(tag, h('option', { value: '' }, 'All tags'), ...items.map((t) => h('option', { value: t.tag }, `${t.tag} (${t.members})`)));
  fillTags(tagList.items);

  const tbody = h('tbody');
  const status = h('p', { class: 'muted small', 'aria-live': 'polite' });
  let cursor = null;
  let shown = 0;
  const more = h('button', { type: 'button', class: 'btn', hidden: true, onclick: () => load(false) }, 'Load more');

  // Only the latest request renders: typing fast or changing filters never interleaves two pages.
  let seq = 0;
  async function load(fresh) {
    const mine = ++seq;
    const page = await get(`/contacts${qs({ q: q.value.trim(), tag: tag.value, channelId: channel.value, limit: 50, cursor: fresh ? null : cursor })}`);
    if (mine !== seq) return;
    if (fresh) { shown = 0; fill(tbody); }
    for (const c of page.items) {
      tbody.append(h('tr', { dataset: { contactId: c.id } },
        h('td', {}, c.name || h('span', { class: 'muted' }, '(no name)')),
        identitiesCell(c, channels),
        tagsEditor(c, refreshTags),
        h('td', { class: 'small' }, fmtDate(new Date(c.updatedAt).toISOString()))));
    }
    shown += page.items.length;
    cursor = page.nextCursor;
    more.hidden = !cursor;
    status.textContent = shown ? `${shown}${cursor ? '+' : ''} contact${shown === 1 ? '' : 's'}` : 'No contacts match.';
  }
  const refreshTags = async () => fillTags((await get('/tags')).items);
  q.addEventListener('input', debounce(() => load(true), 250));
  tag.addEventListener('change', () => load(true));
  channel.addEventListener('change', () => load(true));

  const importer = can('operator') && channelList.items.length
    ? h('details', { class: 'card import-panel', id: 'import-panel', open: ctx.query.get('import') === '1' },
      h('summary', {}, h('h2', { class: 'h3' }, 'Import contacts from CSV')),
      csvImport(channelList.items, () => { load(true); refreshTags(); }))
    : null;
  const openImport = () => {
    importer.open = true;
    importer.querySelector('input[type=file]').focus();
  };

  ctx.main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Contacts'), importer ? h('button', { type: 'button', class: 'btn', onclick: openImport }, 'Import CSV') : null),
    importer,
    h('div', { class: 'card filters-bar', role: 'search' },
      h('div', { class: 'field' }, h('label', { for: 'contact-search' }, 'Search'), q),
      h('div', { class: 'field' }, h('label', { for: 'contact-tag' }, 'Tag'), tag),
      h('div', { class: 'field' }, h('label', { for: 'contact-channel' }, 'Channel'), channel)),
    h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'contacts-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Channels and opt-out', 'Tags', 'Updated'].map((t) => h('th', { scope: 'col' }, t)))), tbody))),
    h('div', { class: 'row-between' }, status, more)));
  await load(true);
}
