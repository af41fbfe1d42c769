// First start: no user exists yet, so the first person creates the admin account and workspace.
import { post } from '../api.js';
import { errorBox, field, h } from '../dom.js';
import { navigate } from '../router.js';

export async function render(ctx) {
  ctx.title('Set up Herald');
  const name = h('input', { name: 'name', autocomplete: 'name', required: true, maxlength: 200 });
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'new-password', required: true, minlength: 10 });
  const workspace = h('input', { name: 'workspace', placeholder: 'default', maxlength: 100 });
  const err = errorBox();
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Create admin account');

  const form = h('form', { class: 'card auth-card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    if (!form.reportValidity()) return;
    submit.disabled = true;
    try {
      await post('/setup', { name: name.value, email: email.value, password: password.value, ...(workspace.value.trim() ? { workspace: workspace.value.trim() } : {}) });
      ctx.setupDone();
      navigate(`/login?setup=1&email=${encodeURIComponent(email.value.trim())}`, { replace: true });
    } catch (ex) {
      err.show(ex.code === 'conflict' ? 'Herald is already set up. Sign in instead.' : ex.message);
      submit.disabled = false;
    }
  } },
  h('div', { class: 'auth-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'Herald')),
  h('h1', {}, 'Welcome to Herald'),
  h('p', { class: 'muted' }, 'Create the first admin account. Admins connect channels, invite the team and manage API keys.'),
  err,
  field('Your name', name),
  field('Email', email),
  field('Password', password, { hint: 'At least 10 characters. A few random words make a strong password.' }),
  field('Workspace name', workspace, { hint: 'Optional. Everything you create lives in this workspace; leave empty for "default".' }),
  submit);

  ctx.main.append(h('section', { class: 'auth-page' }, form));
  name.focus();
}
