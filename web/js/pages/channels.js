// Channels: connected provider accounts with their status, rate limit and webhook URL; test the
// connection; admins add channels with a per-provider credentials form that says where to find them.
import { del, get, patch, post } from '../api.js';
import { confirmDialog, copyButton, errorBox, field, fill, fmtDate, fmtNumber, h, toast } from '../dom.js';
import { PROVIDERS, providerLabel } from '../labels.js';
import { can } from '../session.js';

function statusBadge(ch) {
  return ch.status === 'ok'
    ? h('span', { class: 'badge badge-sent' }, 'OK')
    : h('span', { class: 'badge badge-failed', title: ch.statusMessage ?? '' }, 'Credentials invalid');
}

/** Credential inputs for a provider (or the simulator's settings); read() gives the PATCH/POST values. */
function credentialInputs(provider) {
  const inputs = provider.credentialFields.map((f) => {
    const input = h('input', { name: f.name, required: f.required, autocomplete: 'off', type: /token|secret/i.test(f.name) ? 'password' : 'text', spellcheck: 'false' });
    return { f, input, wrap: field(`${f.name}${f.required ? '' : ' (optional)'}`, input, { hint: f.description }) };
  });
  return {
    el: inputs.length ? inputs.map((i) => i.wrap) : [h('p', { class: 'muted small' }, 'No credentials needed.')],
    /** The first missing required input (errors shown), or null. */
    check() {
      let bad = null;
      for (const i of inputs) {
        const missing = i.f.required && !i.input.value.trim();
        i.wrap.setError(missing ? `${i.f.name} is required.` : null);
        bad ??= missing ? i.input : null;
      }
      return bad;
    },
    read: () => Object.fromEntries(inputs.filter((i) => i.input.value.trim()).map((i) => [i.f.name, i.input.value.trim()])),
  };
}

function simulatorInputs(idPrefix, settings = {}) {
  const latency = h('input', { id: `${idPrefix}-latency`, type: 'number', min: 0, value: settings.latencyMs ?? 40 });
  const failure = h('input', { id: `${idPrefix}-failure`, type: 'number', min: 0, max: 100, step: 'any', value: Math.round((settings.failureRate ?? 0) * 1000) / 10 });
  const expired = h('input', { id: `${idPrefix}-expired`, type: 'checkbox', checked: settings.authExpired === true });
  return {
    el: [h('div', { class: 'grid-2' }, field('Simulated latency (ms)', latency), field('Random failure rate (%)', failure, { hint: 'Temporary errors that Herald retries.' })),
      h('label', { class: 'check' }, expired, ' Simulate expired credentials (every send fails as a channel configuration issue)')],
    read: () => ({ latencyMs: Number(latency.value) || 0, failureRate: (Number(failure.value) || 0) / 100, authExpired: expired.checked }),
  };
}

/** Admins replace a channel's credentials (never shown back) and test them at once. */
function updateForm(ch, provider, reload) {
  const err = errorBox();
  const sim = ch.provider === 'simulator' ? simulatorInputs(`sim-${ch.id}`, ch.settings) : null;
  const creds = sim ? null : credentialInputs(provider);
  const form = h('form', { novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    const bad = creds?.check();
    if (bad) return bad.focus();
    try {
      await patch(`/channels/${ch.id}`, sim ? { settings: { ...ch.settings, ...sim.read() } } : { credentials: creds.read() });
      const r = await post(`/channels/${ch.id}/test`);
      toast(r.ok ? 'Saved; the provider accepted the credentials' : `Saved, but the test failed: ${r.message}`, r.ok ? 'ok' : 'error');
      reload();
    } catch (ex) { err.show(ex.message); }
  } }, err, sim ? sim.el : [h('p', { class: 'hint' }, 'Enter every credential again: stored ones are never shown. ', PROVIDERS[ch.provider]?.where ?? ''), creds.el],
  h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Save and test')));
  return h('details', { class: 'update-creds', open: ch.status !== 'ok' }, h('summary', {}, sim ? 'Simulator settings' : 'Update credentials'), form);
}

function channelCard(ch, reload, provider) {
  const result = h('p', { class: 'test-result', 'aria-live': 'polite' });
  const rate = h('input', { type: 'number', min: 0.1, step: 'any', value: ch.rateLimitPerSecond, class: 'input-short', id: `rate-${ch.id}` });
  const webhook = h('input', { readOnly: true, value: ch.webhookUrl, id: `webhook-${ch.id}`, class: 'mono', onfocus: (e) => e.target.select() });
  const help = PROVIDERS[ch.provider];
  return h('article', { class: 'card channel-card', dataset: { channelId: ch.id }, 'aria-labelledby': `ch-${ch.id}` },
    h('div', { class: 'row-between' },
      h('div', {}, h('h2', { class: 'h3', id: `ch-${ch.id}` }, ch.name), h('p', { class: 'muted small' }, `${providerLabel(ch.provider)} · added ${fmtDate(ch.createdAt)}`)),
      h('span', { class: 'channel-status' }, statusBadge(ch))),
    ch.status !== 'ok' ? h('p', { class: 'alert alert-error' }, `${(ch.statusMessage ?? 'The provider refused the credentials').replace(/\.?$/, '.')} ${can('admin') ? 'Update them below; they are tested when saved.' : 'Ask an admin to update them.'}`) : null,
    h('div', { class: 'grid-2' },
      field('Webhook URL to register', h('div', { class: 'input-row' }, webhook, copyButton(() => ch.webhookUrl)), { hint: help?.webhook, labelFor: webhook }),
      can('admin')
        ? field('Rate limit (messages per second)', h('div', { class: 'input-row' }, rate, h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
          try {
            await patch(`/channels/${ch.id}`, { rateLimitPerSecond: Number(rate.value) });
            toast('Rate limit saved');
          } catch (ex) { toast(ex.message, 'error'); }
        } }, 'Save')), { hint: 'Herald never sends faster than this on this channel; it also slows down when the provider asks.', labelFor: rate })
        : h('div', { class: 'field' }, h('p', { class: 'label' }, 'Rate limit'), h('p', {}, `${fmtNumber(ch.rateLimitPerSecond)} messages per second`))),
    h('div', { class: 'row-between wrap' },
      result,
      h('div', { class: 'toolbar' },
        can('operator') ? h('button', { type: 'button', class: 'btn', dataset: { action: 'test' }, onclick: async (e) => {
          const btn = e.currentTarget;
          btn.disabled = true;
          result.textContent = 'Testing…';
          try {
            const r = await post(`/channels/${ch.id}/test`);
            result.className = `test-result ${r.ok ? 'ok' : 'bad'}`;
            result.textContent = r.ok ? 'Connection OK: the provider accepted the credentials.' : `Failed: ${r.message}${r.code ? ` (${r.code})` : ''}`;
            if (r.ok !== (ch.status === 'ok')) setTimeout(reload, 1500);
          } catch (ex) {
            result.className = 'test-result bad';
            result.textContent = ex.message;
          } finally { btn.disabled = false; }
        } }, 'Test connection') : null,
        can('admin') ? h('button', { type: 'button', class: 'btn btn-danger', onclick: async () => {
          if (!(await confirmDialog({ title: `Delete ${ch.name}?`, body: 'Its contacts\u2019 identities on this channel stay, but no campaign can use it any more.', confirm: 'Delete channel', danger: true }))) return;
          try { await del(`/channels/${ch.id}`); toast('Channel deleted'); reload(); } catch (ex) { toast(ex.message, 'error'); }
        } }, 'Delete') : null)),
    can('admin') && provider ? updateForm(ch, provider, reload) : null);
}

function addChannelForm(providers, onAdded) {
  const err = errorBox();
  const provider = h('select', { id: 'channel-provider' }, providers.map((p) => h('option', { value: p.name }, providerLabel(p.name))));
  const name = h('input', { id: 'channel-name', required: true, maxlength: 200, placeholder: 'e.g. Main WhatsApp number' });
  const rate = h('input', { id: 'channel-rate', type: 'number', min: 0.1, step: 'any' });
  const where = h('p', { class: 'where' });
  const creds = h('div', { class: 'creds' });
  const sim = simulatorInputs('sim');
  const simBox = h('div', {}, sim.el.slice(0, 1));
  let inputs = credentialInputs(providers[0]);

  function providerChanged() {
    const p = providers.find((x) => x.name === provider.value);
    rate.value = p.defaultRatePerSecond;
    fill(where, h('strong', {}, 'Where to find them: '), PROVIDERS[p.name]?.where ?? '');
    inputs = credentialInputs(p);
    fill(creds, inputs.el);
    simBox.hidden = p.name !== 'simulator';
  }
  provider.addEventListener('change', providerChanged);
  providerChanged();

  const submit = h('button', { type: 'submit', class: 'btn btn-primary' }, 'Add channel');
  const form = h('form', { class: 'card', id: 'add-channel', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    const bad = name.value.trim() ? inputs.check() : name;
    if (bad) return bad.focus();
    submit.disabled = true;
    try {
      const credentials = inputs.read();
      const { latencyMs, failureRate } = sim.read();
      const settings = provider.value === 'simulator' ? { latencyMs, failureRate } : {};
      let ch = await post('/channels', { name: name.value.trim(), provider: provider.value, credentials, rateLimitPerSecond: Number(rate.value), settings });
      // Twilio reports delivery to a StatusCallback URL given with each message: point it at Herald.
      if (ch.provider === 'twilio') ch = await patch(`/channels/${ch.id}`, { settings: { ...ch.settings, statusCallbackUrl: ch.webhookUrl } });
      toast(`Channel ${ch.name} added`);
      form.reset();
      providerChanged();
      onAdded(ch);
    } catch (ex) {
      err.show(ex.message);
    } finally { submit.disabled = false; }
  } },
  h('h2', { class: 'h3' }, 'Add a channel'),
  err,
  h('div', { class: 'grid-2' }, field('Provider', provider), field('Name', name, { hint: 'How your team recognises it in campaigns.' })),
  where, creds, simBox,
  field('Rate limit (messages per second)', rate, { hint: 'Pre-filled with the provider\u2019s documented limit; lower it if your account tier is smaller.' }),
  h('div', { class: 'form-actions' }, submit));
  return form;
}

export async function render(ctx) {
  ctx.title('Channels');
  const list = h('div', { class: 'stack', id: 'channel-list' });
  const reload = async () => {
    const { items } = await get('/channels');
    fill(list, ...(items.length ? items.map((ch) => channelCard(ch, reload, providers.find((x) => x.name === ch.provider))) : [h('div', { class: 'empty' }, h('p', {}, 'No channel yet.'), can('admin') ? h('p', {}, 'Add one below: the Simulator needs no credentials and is perfect to try Herald.') : h('p', {}, 'Ask an admin to connect one.'))]));
  };
  const providers = can('admin') ? (await get('/providers')).items : [];
  ctx.main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Channels')),
    h('p', { class: 'muted' }, 'A channel is one business account on a provider. Credentials are encrypted at rest and never shown again.'),
    list,
    can('admin') ? addChannelForm(providers, reload) : null));
  await reload();
}
