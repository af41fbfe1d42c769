// Sign in. The server sets the HttpOnly session cookie; this page never sees the session token.
import { post } from '../api.js';
import { errorBox, field, h } from '../dom.js';
import { navigate } from '../router.js';
import { loadMe } from '../session.js';

export async function render(ctx) {
  ctx.title('Sign in');
  const email = h('input', { name: 'email', type: 'email', autocomplete: 'username', required: true, value: ctx.query.get('email') ?? '' });
  const password = h('input', { name: 'password', type: 'password', autocomplete: 'current-password', required: true });
  const err = errorBox();
  const submit = h('button', { class: 'btn btn-primary btn-block', type: 'submit' }, 'Sign in');
  const next = ctx.query.get('next');

  const form = h('form', { class: 'card auth-card', novalidate: true, onsubmit: async (e) => {
    e.preventDefault();
    err.show('');
    if (!form.reportValidity()) return;
    submit.disabled = true;
    submit.textContent = 'Signing in…';
    try {
      await post('/auth/login', { email: email.value.trim(), password: password.value });
      const me = await loadMe();
      const target = next && next.startsWith('/') && !next.startsWith('//') ? next : '/campaigns';
      navigate(me.user?.mustChangePassword ? '/account?first=1' : target, { replace: true });
    } catch (ex) {
      err.show(ex.message);
      submit.disabled = false;
      submit.textContent = 'Sign in';
      password.select();
    }
  } },
  h('div', { class: 'auth-brand' }, h('img', { src: '/favicon.svg', alt: '', width: 40, height: 40 }), h('span', {}, 'Herald')),
  h('h1', {}, 'Sign in'),
  ctx.query.get('setup') ? h('p', { class: 'alert alert-ok', role: 'status' }, 'Your admin account is ready. Sign in to continue.') : null,
  err,
  field('Email', email),
  field('Password', password),
  submit,
  h('p', { class: 'muted small' }, 'No account? Ask an admin of your workspace to invite you.'));

  ctx.main.append(h('section', { class: 'auth-page' }, form));
  (email.value ? password : email).focus();
}
