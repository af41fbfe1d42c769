// The audience part of the campaign form: all channel members, or members with ANY of the chosen
// tags (OR). The size is the server's own count (POST /api/v1/audience-preview), refreshed as the
// choice changes, so what is shown is what Send will fix.
import { get, post } from '../api.js';
import { debounce, fill, fmtNumber, h, uid } from '../dom.js';

export function audiencePicker({ audience, onChange }) {
  let type = audience?.type === 'tags' ? 'tags' : 'all';
  let selected = new Set(audience?.type === 'tags' ? audience.tags : []);
  let channelId = null;
  const group = uid('aud');

  const size = h('strong', { id: 'audience-size' }, '—');
  const sizeLine = h('p', { class: 'audience-size', 'aria-live': 'polite' }, 'Audience: ', size, ' contacts');
  const tagList = h('div', { class: 'tag-list', role: 'group', 'aria-label': 'Tags' });
  const tagError = h('p', { class: 'field-error', hidden: true }, 'Pick at least one tag.');
  const tagsPanel = h('div', { class: 'panel' },
    h('p', { class: 'hint' }, 'Members with ', h('strong', {}, 'any'), ' of the selected tags receive the message (OR). Someone with several of them is sent one message. Opted-out members are left out.'),
    tagList, tagError);

  const radio = (value, label, hint) => h('label', { class: 'radio radio-block' },
    h('input', { type: 'radio', name: group, value, checked: type === value, onchange: () => { type = value; tagsPanel.hidden = type !== 'tags'; changed(); } }),
    h('span', {}, h('strong', {}, label), h('span', { class: 'hint' }, hint)));

  const value = () => (type === 'all' ? { type: 'all' } : { type: 'tags', tags: [...selected] });

  let seq = 0;
  const refreshSize = debounce(async () => {
    const mine = ++seq;
    if (!channelId || (type === 'tags' && selected.size === 0)) {
      size.textContent = '0';
      return;
    }
    size.textContent = '…';
    try {
      const { count } = await post('/audience-preview', { channelId, audience: value() });
      if (mine === seq) size.textContent = fmtNumber(count);
    } catch {
      if (mine === seq) size.textContent = '?';
    }
  }, 200);

  function changed() {
    tagError.hidden = true;
    refreshSize();
    onChange?.(value());
  }

  async function setChannel(id) {
    channelId = id;
    fill(tagList, h('p', { class: 'muted small' }, 'Loading tags…'));
    const { items } = id ? await get(`/tags?channelId=${encodeURIComponent(id)}`) : { items: [] };
    const known = new Set(items.map((t) => t.tag));
    const rows = items.map((t) => h('label', { class: 'check' },
      h('input', { type: 'checkbox', value: t.tag, checked: selected.has(t.tag), onchange: (e) => { if (e.target.checked) selected.add(t.tag); else selected.delete(t.tag); changed(); } }),
      ` ${t.tag} `, h('span', { class: 'muted small' }, `(${fmtNumber(t.members)})`)));
    // Tags chosen earlier that no member of this channel has any more stay visible and removable.
    for (const t of selected) {
      if (!known.has(t)) rows.push(h('label', { class: 'check' }, h('input', { type: 'checkbox', value: t, checked: true, onchange: (e) => { if (!e.target.checked) selected.delete(t); else selected.add(t); changed(); } }), ` ${t} `, h('span', { class: 'muted small' }, '(0)')));
    }
    fill(tagList, ...(rows.length ? rows : [h('p', { class: 'muted small' }, 'No member of this channel has a tag yet. Tag contacts on the Contacts page or in a CSV import.')]));
    refreshSize();
  }

  const el = h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Audience'),
    radio('all', 'All channel members', 'Everyone with an identity on this channel, each person once, opted-out members excluded.'),
    radio('tags', 'Filtered by tags', 'Only members with at least one of the tags you pick.'),
    tagsPanel, sizeLine);
  tagsPanel.hidden = type !== 'tags';

  return {
    el, value, setChannel,
    validate() {
      if (type === 'tags' && selected.size === 0) {
        tagError.hidden = false;
        return tagList.querySelector('input') ?? tagList;
      }
      return null;
    },
    size: () => Number(size.textContent.replace(/\D/g, '')) || 0,
  };
}
