// Create or edit a campaign: name, channel, message (with a live preview and provider limits),
// audience with its size, then Save draft, Send now, or Create & Schedule at a future local time.
import { get, patch, post, qs } from '../api.js';
import { confirmDialog, errorBox, field, fill, fmtNumber, h, timeZone, toast, toLocalInput } from '../dom.js';
import { providerLabel } from '../labels.js';
import { navigate } from '../router.js';
import { can } from '../session.js';
import { audiencePicker } from '../components/audience-picker.js';
import { messageEditor } from '../components/message-editor.js';
import { contactVars, messagePreview } from '../components/preview.js';

export async function render(ctx) {
  const editing = ctx.params.id ?? null;
  const [channelList, providerList, existing] = await Promise.all([
    get('/channels'), get('/providers'), editing ? get(`/campaigns/${editing}`) : Promise.resolve(null),
  ]);
  ctx.title(existing ? `Edit ${existing.name}` : 'New campaign');
  const providers = new Map(providerList.items.map((p) => [p.name, p]));
  const channels = channelList.items;

  const page = h('section', { class: 'page' });
  ctx.main.append(page);
  const back = existing ? h('a', { href: `/campaigns/${existing.id}`, class: 'crumb' }, `← ${existing.name}`) : h('a', { href: '/campaigns', class: 'crumb' }, '← Campaigns');
  if (!can('operator')) {
    page.append(back, h('h1', {}, 'Read-only access'), h('p', {}, 'Your role can view campaigns but not create or edit them.'));
    return;
  }
  if (existing && !existing.actions.includes('edit')) {
    page.append(back, h('h1', {}, existing.name), h('p', { class: 'alert' }, `A ${existing.status} campaign can no longer be edited.`));
    return;
  }
  if (channels.length === 0) {
    page.append(back, h('h1', {}, 'New campaign'), h('div', { class: 'empty' }, h('p', {}, 'A campaign is sent through a channel, and there is none yet.'),
      can('admin') ? h('a', { class: 'btn btn-primary', href: '/channels' }, 'Connect a channel') : h('p', {}, 'Ask an admin to connect one.')));
    return;
  }

  const err = errorBox();
  const name = h('input', { id: 'campaign-name', required: true, maxlength: 200, value: existing?.name ?? '', placeholder: 'Spring sale announcement' });
  const nameField = field('Campaign name', name, { hint: 'Only your team sees it.' });
  const channelSel = h('select', { id: 'campaign-channel' }, channels.map((c) => h('option', { value: c.id, selected: c.id === (existing?.channelId ?? channels[0].id) }, `${c.name} · ${providerLabel(c.provider)}`)));
  const channelHint = h('p', { class: 'hint' });

  let samples = [];
  const sampleSel = h('select', { id: 'preview-contact', 'aria-label': 'Preview as contact' });
  const previewBox = h('div');
  const channel = () => channels.find((c) => c.id === channelSel.value);
  const refreshPreview = () => {
    const contact = samples[Number(sampleSel.value)] ?? null;
    fill(previewBox, messagePreview(editor.value(), { channel: channel(), vars: contact ? contactVars(contact) : { name: 'Alex' } }));
  };
  const editor = messageEditor({ message: existing?.message ?? { type: 'text', text: '' }, onChange: refreshPreview });
  const audience = audiencePicker({ audience: existing?.audience ?? { type: 'all' } });
  sampleSel.addEventListener('change', refreshPreview);

  async function channelChanged() {
    const c = channel();
    const info = providers.get(c.provider) ?? null;
    editor.setProvider(info);
    channelHint.textContent = `${providerLabel(c.provider)}: text up to ${fmtNumber(info?.limits?.text)} characters${info?.templates ? '; templates available' : ''}. Sends at ${fmtNumber(c.rateLimitPerSecond)} messages/s.${c.status === 'auth_failed' ? ' Warning: its credentials were refused; fix them on the Channels page.' : ''}`;
    const [contacts] = await Promise.all([get(`/contacts${qs({ channelId: c.id, limit: 5 })}`), audience.setChannel(c.id)]);
    samples = contacts.items;
    fill(sampleSel, ...(samples.length ? samples.map((s, i) => h('option', { value: i }, s.name || s.identities[0]?.providerUserId || 'Contact')) : [h('option', { value: -1 }, 'Sample contact "Alex"')]));
    const keys = new Set(['name']);
    for (const s of samples) for (const k of Object.keys(s.attributes ?? {})) keys.add(k);
    editor.setKeys([...keys].slice(0, 8));
    refreshPreview();
  }
  channelSel.addEventListener('change', channelChanged);

  const when = h('input', { id: 'schedule-at', type: 'datetime-local', min: toLocalInput(new Date()), value: existing?.timeline.scheduledAt ? toLocalInput(new Date(existing.timeline.scheduledAt)) : '' });
  const whenField = field('Send at', when, { hint: `In your time zone (${timeZone()}). Only future times.` });

  function collect({ needsSchedule } = {}) {
    err.show('');
    nameField.setError(name.value.trim() ? null : 'Give the campaign a name.');
    const bad = [name.value.trim() ? null : name, editor.validate(), audience.validate()].find(Boolean);
    let scheduledAt;
    whenField.setError(null);
    if (needsSchedule) {
      const at = when.value ? new Date(when.value) : null;
      if (!at || Number.isNaN(at.getTime())) whenField.setError('Pick a date and time.');
      else if (at.getTime() <= Date.now() + 30_000) whenField.setError('Pick a time in the future.');
      else scheduledAt = at.toISOString();
      if (!scheduledAt) { when.focus(); return null; }
    }
    if (bad) { bad.focus(); return null; }
    return { name: name.value.trim(), channelId: channelSel.value, message: editor.value(), audience: audience.value(), ...(scheduledAt ? { scheduledAt } : {}) };
  }

  const buttons = [];
  async function busy(fn) {
    buttons.forEach((b) => { b.disabled = true; });
    try {
      await fn();
    } catch (ex) {
      err.show(ex.message);
      err.scrollIntoView({ block: 'center' });
    } finally {
      buttons.forEach((b) => { b.disabled = false; });
    }
  }
  const save = async (body) => (existing ? patch(`/campaigns/${existing.id}`, body) : post('/campaigns', body));

  const saveBtn = h('button', { type: 'submit', class: 'btn', id: 'save-draft' }, existing ? 'Save changes' : 'Save draft');
  const sendBtn = h('button', { type: 'button', class: 'btn btn-primary', id: 'send-now', onclick: () => busy(async () => {
    const body = collect();
    if (!body) return;
    const n = audience.size();
    const ok = await confirmDialog({ title: 'Send now?', body: `"${body.name}" goes to ${fmtNumber(n)} contact${n === 1 ? '' : 's'} on ${channel().name} right away.`, confirm: 'Send now' });
    if (!ok) return;
    const c = await save(body);
    await post(`/campaigns/${c.id}/send`);
    toast('Sending started');
    navigate(`/campaigns/${c.id}`);
  }) }, 'Send now');
  const schedBtn = h('button', { type: 'button', class: 'btn', id: 'create-schedule', onclick: () => busy(async () => {
    const body = collect({ needsSchedule: true });
    if (!body) return;
    const c = await save(body);
    toast(`Scheduled for ${new Date(body.scheduledAt).toLocaleString()}`);
    navigate(`/campaigns/${c.id}`);
  }) }, existing ? (existing.status === 'scheduled' ? 'Save & Reschedule' : 'Save & Schedule') : 'Create & Schedule');
  buttons.push(saveBtn, sendBtn, schedBtn);

  const form = h('form', { class: 'composer', novalidate: true, onsubmit: (e) => {
    e.preventDefault();
    busy(async () => {
      const body = collect();
      if (!body) return;
      const c = await save(body);
      toast(existing ? 'Changes saved' : 'Draft saved');
      navigate(`/campaigns/${c.id}`);
    });
  } },
  h('div', { class: 'composer-main' },
    err,
    h('div', { class: 'card' }, nameField, field('Channel', channelSel), channelHint),
    h('div', { class: 'card' }, editor.el),
    h('div', { class: 'card' }, audience.el),
    h('div', { class: 'card' }, h('fieldset', { class: 'fieldset' }, h('legend', {}, 'When'),
      h('p', { class: 'hint' }, existing?.status === 'scheduled' ? 'Scheduled campaigns keep their time unless you pick a new one and press Save & Reschedule.' : 'Send now, or pick a time and schedule it.'), whenField)),
    h('div', { class: 'form-actions' }, saveBtn, schedBtn, sendBtn)),
  h('aside', { class: 'composer-side' }, h('div', { class: 'card sticky' }, h('h2', { class: 'h3' }, 'Preview'), field('Preview as', sampleSel), previewBox)));

  page.append(back, h('h1', {}, existing ? `Edit campaign` : 'New campaign'), form);
  await channelChanged();
  if (!existing) name.focus();
}
