// The signed-in user's account: who they are, their role, and changing their password (required
// after signing in with a one-time password).
import { post } from '../api.js';
import { errorBox, field, h, toast } from '../dom.js';
import { currentUser, loadMe } from '../session.js';

export async function render(ctx) {
  ctx.title('Your account');
  const me = currentUser();
  const page = h('section', { class: 'page narrow' }, h('h1', {}, 'Your account'));
  ctx.main.append(page);
  page.append(h('div', { class: 'card' }, h('dl', { class: 'stats' },
    h('div', { class: 'stat' }, h('dt', {}, 'Name'), h('dd', {}, me.user?.name ?? 'API key')),
    h('div', { class: 'stat' }, h('dt', {}, 'Email'), h('dd', {}, me.user?.email ?? '—')),
    h('div', { class: 'stat' }, h('dt', {}, 'Role'), h('dd', {}, me.role)),
    h('div', { class: 'stat' }, h('dt', {}, 'Workspace'), h('dd', {}, me.workspace?.name ?? '—')))));
  if (!me.user) return;

  const err = errorBox();
  const current = h('input', { id: 'current-password', type: 'password', autocomplete: 'current-password', required: true });
  const next = h('input', { id: 'new-password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const form = h('form', { class: 'card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    if (!form.reportValidity()) return;
    try {
      await post('/me/password', { currentPassword: current.value, newPassword: next.value });
      await loadMe();
      toast('Password changed; your other sessions were signed out');
      form.reset();
      notice.hidden = true;
    } catch (ex) { err.show(ex.message); }
  } },
  h('h2', { class: 'h3' }, 'Change password'), err,
  field(me.user.mustChangePassword ? 'One-time password you signed in with' : 'Current password', current),
  field('New password', next, { hint: 'At least 10 characters.' }),
  h('div', { class: 'form-actions' }, h('button', { type: 'submit', class: 'btn btn-primary' }, 'Change password')));
  const notice = h('p', { class: 'alert alert-warn', role: 'status', hidden: !me.user.mustChangePassword }, 'You signed in with a one-time password. Choose your own password now.');
  page.append(notice, form);
}
