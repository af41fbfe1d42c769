// Campaign detail: live progress over the WebSocket, delivery statistics, timeline, chart,
// failures with advice, recipients, and the actions the campaign's status allows.
import { del, get, post } from '../api.js';
import { announce, confirmDialog, errorBox, field, fill, fmtNumber, h, timeZone, toast, toLocalInput } from '../dom.js';
import { STATUS_HELP, STATUS_LABEL, providerLabel, statusBadge } from '../labels.js';
import { subscribe } from '../live.js';
import { navigate } from '../router.js';
import { can } from '../session.js';
import { failuresPanel } from '../components/failures-panel.js';
import { messagePreview } from '../components/preview.js';
import { progressChart } from '../components/progress-chart.js';
import { deliveryStats, progressPanel, timeline } from '../components/progress-panel.js';
import { recipientsTable } from '../components/recipients-table.js';

export async function render(ctx) {
  let c = await get(`/campaigns/${ctx.params.id}`);
  const channel = await get(`/channels/${c.channelId}`).catch(() => null);
  const parent = c.parentCampaignId ? await get(`/campaigns/${c.parentCampaignId}`).catch(() => null) : null;
  ctx.title(c.name);

  const err = errorBox();
  const head = h('div', { class: 'detail-head' });
  const audienceNow = h('p', { class: 'audience-now' });
  const actions = h('div', { class: 'actions-bar', role: 'group', 'aria-label': 'Campaign actions' });
  const banner = h('div');
  const progress = progressPanel();
  const statsBox = h('div');
  const timelineBox = h('div');
  const chart = progressChart(c);
  const failures = failuresPanel(c.id, { onShow: (cls) => recipients.showFailed(cls) });
  const recipients = recipientsTable(c);

  function renderHead() {
    fill(head,
      h('a', { href: '/campaigns', class: 'crumb' }, '← Campaigns'),
      h('div', { class: 'title-row' }, h('h1', {}, c.name), h('span', { id: 'campaign-status' }, statusBadge(c.status))),
      h('p', { class: 'muted' },
        channel ? `${channel.name} · ${providerLabel(channel.provider)}` : 'Channel deleted',
        c.audience.type === 'tags' ? ` · tags: ${c.audience.tags.join(' OR ')}` : c.audience.type === 'all' ? ' · all channel members' : ' · failed recipients of a previous campaign'),
      c.parentCampaignId ? h('p', { class: 'retry-of', id: 'retry-of', dataset: { parentId: c.parentCampaignId } }, 'Retry of ', h('a', { href: `/campaigns/${c.parentCampaignId}` }, parent?.name ?? 'the previous campaign'), ': its audience is the recipients that failed there.') : null,
      h('p', { class: 'small muted' }, STATUS_HELP[c.status]),
      audienceNow);
    if (c.status === 'draft' || c.status === 'scheduled') {
      get(`/campaigns/${c.id}/audience-preview`).then(({ count }) => fill(audienceNow, 'Audience right now: ', h('strong', { id: 'audience-now' }, fmtNumber(count)), ` contact${count === 1 ? '' : 's'} (fixed when sending starts).`)).catch(() => {});
    } else fill(audienceNow);
    fill(banner,
      c.status === 'paused' ? h('div', { class: 'alert alert-warn', role: 'status', id: 'pause-reason' }, h('strong', {}, 'Paused: '), c.pauseReason ?? 'no reason given', c.pauseReason && c.pauseReason !== 'Paused by a user' ? h('div', { class: 'small' }, 'Herald pauses a campaign by itself after 5 consecutive failures or when the channel\u2019s credentials are refused. Fix the cause, then Resume.') : null) : '',
      c.statusReason ? h('div', { class: 'alert', role: 'status' }, c.statusReason) : '');
  }

  const act = (label, fn, opts = {}) => h('button', { type: 'button', class: `btn ${opts.primary ? 'btn-primary' : ''} ${opts.danger ? 'btn-danger' : ''}`, dataset: { action: opts.id }, onclick: async (e) => {
    const btn = e.currentTarget;
    btn.disabled = true;
    err.show('');
    try {
      await fn();
    } catch (ex) {
      err.show(ex.message);
    } finally {
      btn.disabled = false;
    }
  } }, label);

  async function afterAction(updated, message) {
    c = updated;
    toast(message);
    announce(message);
    await refreshAll();
  }

  async function schedule() {
    const input = h('input', { type: 'datetime-local', id: 'reschedule-at', min: toLocalInput(new Date()), value: c.timeline.scheduledAt ? toLocalInput(new Date(c.timeline.scheduledAt)) : toLocalInput(new Date(Date.now() + 3600_000)) });
    const ok = await confirmDialog({ title: c.status === 'scheduled' ? 'Reschedule' : 'Schedule', confirm: c.status === 'scheduled' ? 'Reschedule' : 'Schedule', extra: field('Send at', input, { hint: `In your time zone (${timeZone()}). Only future times.` }) });
    if (!ok) return;
    const at = new Date(input.value);
    if (!input.value || Number.isNaN(at.getTime()) || at.getTime() <= Date.now()) throw new Error('Pick a time in the future.');
    await afterAction(await post(`/campaigns/${c.id}/schedule`, { scheduledAt: at.toISOString() }), `Scheduled for ${at.toLocaleString()}`);
  }

  function renderActions() {
    const a = new Set(c.actions);
    const items = [];
    if (can('operator')) {
      if (a.has('send')) items.push(act('Send now', async () => {
        const { count } = await get(`/campaigns/${c.id}/audience-preview`);
        if (!(await confirmDialog({ title: 'Send now?', body: `"${c.name}" goes to ${fmtNumber(count)} contact${count === 1 ? '' : 's'} right away.`, confirm: 'Send now' }))) return;
        await afterAction(await post(`/campaigns/${c.id}/send`), 'Sending started');
      }, { primary: true, id: 'send' }));
      if (a.has('schedule')) items.push(act(c.status === 'scheduled' ? 'Reschedule' : 'Schedule', schedule, { id: 'schedule' }));
      if (a.has('edit')) items.push(h('a', { class: 'btn', href: `/campaigns/${c.id}/edit`, dataset: { action: 'edit' } }, 'Edit'));
      if (a.has('pause')) items.push(act('Pause', async () => afterAction(await post(`/campaigns/${c.id}/pause`), 'Paused'), { id: 'pause' }));
      if (a.has('resume')) items.push(act('Resume', async () => afterAction(await post(`/campaigns/${c.id}/resume`), 'Resumed'), { primary: true, id: 'resume' }));
      if (a.has('retry-failed')) items.push(act('Retry failed', async () => {
        const only = h('input', { type: 'checkbox', id: 'only-retryable' });
        const ok = await confirmDialog({ title: 'Retry failed recipients', body: `A new draft campaign is created for the ${fmtNumber(c.stats.failed)} failed recipient(s), with the same message. You can review it before sending.`, confirm: 'Create retry campaign',
          extra: h('label', { class: 'check' }, only, ' Only failures that may succeed now (rate limits, temporary errors, channel configuration)') });
        if (!ok) return;
        const created = await post(`/campaigns/${c.id}/retry-failed`, only.checked ? { onlyRetryable: true } : {});
        toast('Retry campaign created');
        navigate(`/campaigns/${created.id}`);
      }, { primary: true, id: 'retry-failed' }));
      if (a.has('cancel')) items.push(act(c.status === 'scheduled' ? 'Cancel schedule' : 'Cancel', async () => {
        const body = c.status === 'scheduled' ? 'The campaign goes back to Draft and will not be sent at its time.' : 'Recipients not sent yet are skipped. Messages already sent stay sent.';
        if (!(await confirmDialog({ title: c.status === 'scheduled' ? 'Cancel the schedule?' : 'Cancel sending?', body, confirm: c.status === 'scheduled' ? 'Cancel schedule' : 'Cancel campaign', danger: true }))) return;
        await afterAction(await post(`/campaigns/${c.id}/cancel`), c.status === 'scheduled' ? 'Schedule cancelled; back to Draft' : 'Campaign cancelled');
      }, { danger: true, id: 'cancel' }));
      if (a.has('delete')) items.push(act('Delete', async () => {
        if (!(await confirmDialog({ title: 'Delete this draft?', body: 'This cannot be undone.', confirm: 'Delete', danger: true }))) return;
        await del(`/campaigns/${c.id}`);
        toast('Draft deleted');
        navigate('/campaigns');
      }, { danger: true, id: 'delete' }));
    }
    if (c.timeline.startedAt) items.push(h('a', { class: 'btn', href: `/api/v1/campaigns/${c.id}/recipients.csv`, download: '' }, 'Export CSV'));
    fill(actions, ...items);
    actions.hidden = items.length === 0;
  }

  async function refreshAll() {
    renderHead();
    renderActions();
    progress.update(c);
    fill(statsBox, deliveryStats(c));
    fill(timelineBox, timeline(c));
    recipients.setCampaign(c);
    chart.setCampaign(c);
    await Promise.all([failures.load(), recipients.load()]);
  }

  ctx.main.append(h('section', { class: 'page' },
    head, actions, err, banner,
    h('div', { class: 'detail-grid' },
      h('div', { class: 'detail-main' }, progress.el, chart.el, failures.el),
      h('div', { class: 'detail-side' }, statsBox, timelineBox,
        h('section', { class: 'card', 'aria-labelledby': 'message-h' }, h('h2', { id: 'message-h', class: 'h3' }, 'Message'), messagePreview(c.message, { channel, vars: { name: 'Alex' } })))),
    recipients.el));
  await refreshAll();
  await chart.load();

  // Live: counters every 10 recipients; a status change reloads everything that depends on it.
  let reloading = false;
  ctx.onCleanup(subscribe(c.id, async (e) => {
    progress.update(e);
    chart.add(e);
    fill(statsBox, deliveryStats({ ...c, status: e.status, stats: e.stats }));
    if (e.status !== c.status && !reloading) {
      reloading = true;
      try {
        c = await get(`/campaigns/${c.id}`);
        announce(`Campaign is now ${STATUS_LABEL[c.status] ?? c.status}`);
        await refreshAll();
        progress.update(e.status === c.status ? e : c);
      } finally {
        reloading = false;
      }
    }
  }));
}
