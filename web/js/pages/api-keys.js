// API keys (admins): create one with a role (its secret is shown once), see when it was made,
// revoke it (requests with it get 401 at once).
import { del, get, post } from '../api.js';
import { confirmDialog, copyButton, errorBox, field, fill, fmtDate, h, toast } from '../dom.js';

export async function render(ctx) {
  ctx.title('API keys');
  const tbody = h('tbody');
  const reload = async () => {
    const { items } = await get('/api-keys');
    fill(tbody, ...items.map((k) => h('tr', { dataset: { keyId: k.id }, class: k.revokedAt ? 'revoked' : '' },
      h('td', {}, h('strong', {}, k.name)),
      h('td', {}, h('code', {}, `${k.prefix}…`)),
      h('td', {}, k.role),
      h('td', { class: 'small' }, fmtDate(k.createdAt)),
      h('td', {}, k.revokedAt ? h('span', { class: 'badge badge-cancelled' }, `Revoked ${fmtDate(k.revokedAt)}`) : h('button', { type: 'button', class: 'btn btn-small btn-danger', onclick: async () => {
        if (!(await confirmDialog({ title: `Revoke "${k.name}"?`, body: 'Programs using this key stop working at once.', confirm: 'Revoke key', danger: true }))) return;
        try { await del(`/api-keys/${k.id}`); toast('Key revoked'); reload(); } catch (ex) { toast(ex.message, 'error'); }
      } }, 'Revoke')))));
  };

  const err = errorBox();
  const name = h('input', { id: 'key-name', required: true, placeholder: 'e.g. CRM sync' });
  const role = h('select', { id: 'key-role' }, [['operator', 'Operator — contacts and campaigns, may send'], ['viewer', 'Viewer — read only'], ['admin', 'Admin — everything']].map(([v, l]) => h('option', { value: v }, l)));
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'create-key', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    if (!form.reportValidity()) return;
    try {
      const k = await post('/api-keys', { name: name.value.trim(), role: role.value });
      fill(result, h('div', { class: 'alert alert-ok', id: 'new-key' },
        h('p', {}, 'Copy the key now: it is shown only once. Send it as ', h('code', {}, 'Authorization: Bearer <key>'), '.'),
        h('div', { class: 'input-row' }, h('code', { class: 'secret' }, k.key), copyButton(() => k.key))));
      form.reset();
      await reload();
    } catch (ex) { err.show(ex.message); }
  } },
  h('h2', { class: 'h3' }, 'Create an API key'), err,
  h('div', { class: 'grid-2' }, field('Name', name, { hint: 'What uses it, so you know what breaks if you revoke it.' }), field('Role', role)),
  h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Create key')),
  result);

  ctx.main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'API keys')),
    h('p', { class: 'muted' }, 'Keys let programs use the REST API (', h('a', { href: '/api/v1/openapi.json' }, 'OpenAPI document'), ') and the live WebSocket with the permissions of their role.'),
    form,
    h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'keys-table' },
      h('thead', {}, h('tr', {}, ['Name', 'Key', 'Role', 'Created', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody)))));
  await reload();
}
