// Users (admins): invite with a role (a one-time password is shown once), change role, disable,
// delete. Roles: admin (everything), operator (contacts, campaigns, sending), viewer (read only).
import { del, get, patch, post } from '../api.js';
import { confirmDialog, copyButton, errorBox, field, fill, fmtDate, h, toast } from '../dom.js';
import { currentUser } from '../session.js';

const ROLES = [['admin', 'Admin — everything: users, API keys, channels'], ['operator', 'Operator — contacts and campaigns, may send'], ['viewer', 'Viewer — read only']];

function userRow(u, reload) {
  const self = currentUser()?.user?.id === u.id;
  const role = h('select', { 'aria-label': `Role of ${u.email}`, disabled: self, onchange: async () => {
    try { await patch(`/users/${u.id}`, { role: role.value }); toast(`${u.name} is now ${role.value}`); } catch (ex) { toast(ex.message, 'error'); role.value = u.role; }
  } }, ROLES.map(([v]) => h('option', { value: v, selected: v === u.role }, v)));
  return h('tr', { dataset: { userId: u.id } },
    h('td', {}, h('strong', {}, u.name), self ? h('span', { class: 'muted small' }, ' (you)') : null, h('div', { class: 'small muted' }, u.email)),
    h('td', {}, role),
    h('td', {}, u.disabled ? h('span', { class: 'badge badge-cancelled' }, 'Disabled') : u.mustChangePassword ? h('span', { class: 'badge badge-scheduled' }, 'Invited') : h('span', { class: 'badge badge-sent' }, 'Active')),
    h('td', { class: 'small' }, u.lastLoginAt ? fmtDate(u.lastLoginAt) : 'never'),
    h('td', {}, self ? null : h('div', { class: 'toolbar' },
      h('button', { type: 'button', class: 'btn btn-small', onclick: async () => {
        try { await patch(`/users/${u.id}`, { disabled: !u.disabled }); toast(u.disabled ? 'User enabled' : 'User disabled and signed out'); reload(); } catch (ex) { toast(ex.message, 'error'); }
      } }, u.disabled ? 'Enable' : 'Disable'),
      h('button', { type: 'button', class: 'btn btn-small btn-danger', onclick: async () => {
        if (!(await confirmDialog({ title: `Delete ${u.email}?`, body: 'They are signed out at once and cannot sign in again.', confirm: 'Delete user', danger: true }))) return;
        try { await del(`/users/${u.id}`); toast('User deleted'); reload(); } catch (ex) { toast(ex.message, 'error'); }
      } }, 'Delete'))));
}

export async function render(ctx) {
  ctx.title('Users');
  const tbody = h('tbody');
  const reload = async () => fill(tbody, ...(await get('/users')).items.map((u) => userRow(u, reload)));

  const err = errorBox();
  const email = h('input', { id: 'invite-email', type: 'email', required: true, autocomplete: 'off' });
  const name = h('input', { id: 'invite-name', required: true, autocomplete: 'off' });
  const role = h('select', { id: 'invite-role' }, ROLES.map(([v, l]) => h('option', { value: v, selected: v === 'operator' }, l)));
  const password = h('input', { id: 'invite-password', type: 'password', autocomplete: 'new-password', minlength: 10 });
  const result = h('div', { 'aria-live': 'polite' });
  const form = h('form', { class: 'card', id: 'invite-user', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    fill(result);
    if (!form.reportValidity()) return;
    try {
      const u = await post('/users', { email: email.value.trim(), name: name.value.trim(), role: role.value, ...(password.value ? { password: password.value } : {}) });
      fill(result, u.oneTimePassword
        ? h('div', { class: 'alert alert-ok', id: 'one-time-password' },
          h('p', {}, `${u.email} can now sign in with this one-time password. It is shown only once; they choose their own at first sign-in.`),
          h('div', { class: 'input-row' }, h('code', { class: 'secret' }, u.oneTimePassword), copyButton(() => u.oneTimePassword)))
        : h('p', { class: 'alert alert-ok' }, `${u.email} can now sign in with the password you chose.`));
      form.reset();
      role.value = 'operator';
      await reload();
    } catch (ex) { err.show(ex.message); }
  } },
  h('h2', { class: 'h3' }, 'Invite a user'),
  err,
  h('div', { class: 'grid-2' }, field('Email', email), field('Name', name)),
  h('div', { class: 'grid-2' }, field('Role', role), field('Password (optional)', password, { hint: 'Leave empty to generate a one-time password.' })),
  h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Invite')),
  result);

  ctx.main.append(h('section', { class: 'page' },
    h('div', { class: 'page-head' }, h('h1', {}, 'Users')),
    h('p', { class: 'muted' }, 'Everyone here works in this workspace. The API enforces the same roles for API keys and signed-in users.'),
    h('div', { class: 'card table-card' }, h('div', { class: 'table-wrap' }, h('table', { class: 'table', id: 'users-table' },
      h('thead', {}, h('tr', {}, ['User', 'Role', 'Status', 'Last sign-in', ''].map((t) => h('th', { scope: 'col' }, t)))), tbody))),
    form));
  await reload();
}
