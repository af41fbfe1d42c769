// Boot: first start → setup page; no session → login; otherwise the app shell and the page of the
// current URL. Pages are modules with render(ctx); ctx.onCleanup registers what to stop (live
// subscriptions, timers) when the user leaves the page.
import { get, onUnauthorized } from './api.js';
import { clear, h } from './dom.js';
import { connectionState, disconnect, onConnectionState } from './live.js';
import { match, navigate, route, startRouter } from './router.js';
import { can, currentUser, forget, loadMe } from './session.js';

route('/setup', () => import('./pages/setup.js'), { public: true });
route('/login', () => import('./pages/login.js'), { public: true });
route('/', null, { redirect: '/campaigns' });
route('/campaigns', () => import('./pages/campaigns.js'));
route('/campaigns/new', () => import('./pages/campaign-form.js'));
route('/campaigns/:id/edit', () => import('./pages/campaign-form.js'));
route('/campaigns/:id', () => import('./pages/campaign-detail.js'));
route('/channels', () => import('./pages/channels.js'));
route('/contacts', () => import('./pages/contacts.js'));
route('/users', () => import('./pages/users.js'), { role: 'admin' });
route('/api-keys', () => import('./pages/api-keys.js'), { role: 'admin' });
route('/account', () => import('./pages/account.js'));

const main = document.getElementById('main');
const topbar = document.getElementById('topbar');
let cleanups = [];
let setupChecked = false;
let liveDot = null;
const LIVE_TITLE = { open: 'Live updates connected', connecting: 'Connecting live updates…', closed: 'No live updates on this page' };
onConnectionState((s) => {
  if (!liveDot) return;
  liveDot.dataset.state = s;
  liveDot.title = LIVE_TITLE[s];
  liveDot.setAttribute('aria-label', LIVE_TITLE[s]);
});

const NAV = [
  ['/campaigns', 'Campaigns'],
  ['/channels', 'Channels'],
  ['/contacts', 'Contacts'],
  ['/users', 'Users', 'admin'],
  ['/api-keys', 'API keys', 'admin'],
];

function renderTopbar() {
  const me = currentUser();
  if (!me) {
    topbar.hidden = true;
    return;
  }
  const here = location.pathname;
  liveDot = h('span', { class: 'live-dot', title: LIVE_TITLE[connectionState()], role: 'img', 'aria-label': LIVE_TITLE[connectionState()], dataset: { state: connectionState() } });
  clear(topbar).append(
    h('a', { class: 'brand', href: '/campaigns' }, h('img', { src: '/favicon.svg', alt: '', width: 24, height: 24 }), 'Herald'),
    h('nav', { 'aria-label': 'Main' }, h('ul', {}, NAV.filter(([, , role]) => !role || can(role)).map(([href, label]) =>
      h('li', {}, h('a', { href, 'aria-current': here.startsWith(href) ? 'page' : null }, label))))),
    h('div', { class: 'who' },
      liveDot,
      h('a', { href: '/account', class: 'who-name', title: 'Your account' }, me.user?.name ?? 'API key', h('span', { class: 'who-role' }, `${me.role} · ${me.workspace?.name ?? ''}`)),
      h('button', { class: 'btn btn-small', type: 'button', onclick: signOut }, 'Sign out')),
  );
  topbar.hidden = false;
}

async function signOut() {
  await fetch('/api/v1/auth/logout', { method: 'POST', headers: { 'X-Herald-CSRF': '1' }, credentials: 'same-origin' }).catch(() => null);
  forget();
  disconnect();
  navigate('/login', { replace: true });
}

function notFound() {
  clear(main).append(h('section', { class: 'page narrow' }, h('h1', { tabindex: -1 }, 'Page not found'), h('p', {}, h('a', { href: '/campaigns' }, 'Back to campaigns'))));
}

async function render() {
  for (const fn of cleanups.splice(0)) { try { fn(); } catch { /* a page's cleanup never blocks navigation */ } }
  const found = match(location.pathname);
  if (!found) return notFound();
  const { route: r, params } = found;
  if (r.opts.redirect) return navigate(r.opts.redirect, { replace: true });
  if (!setupChecked) {
    const { needsSetup } = await get('/setup');
    setupChecked = !needsSetup;
    if (needsSetup && location.pathname !== '/setup') return navigate('/setup', { replace: true });
  }
  if (setupChecked && location.pathname === '/setup') return navigate('/login', { replace: true });
  if (!r.opts.public && !currentUser()) {
    try {
      await loadMe();
    } catch {
      const next = location.pathname + location.search;
      return navigate(`/login${next !== '/campaigns' ? `?next=${encodeURIComponent(next)}` : ''}`, { replace: true });
    }
  }
  if (r.opts.public) topbar.hidden = true;
  else renderTopbar();
  if (r.opts.role && !can(r.opts.role)) {
    clear(main).append(h('section', { class: 'page narrow' }, h('h1', { tabindex: -1 }, 'Not available'), h('p', {}, `This page is for the ${r.opts.role} role; you are signed in as ${currentUser().role}.`)));
    return;
  }
  const mod = await r.load();
  const query = new URLSearchParams(location.search);
  clear(main);
  const ctx = {
    main, params, query,
    onCleanup: (fn) => cleanups.push(fn),
    title: (t) => { document.title = `${t} · Herald`; },
    setupDone: () => { setupChecked = true; },
  };
  await mod.render(ctx);
  const heading = main.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    if (document.activeElement === document.body || !main.contains(document.activeElement)) heading.focus({ preventScroll: true });
  }
}

onUnauthorized(() => {
  if (!currentUser()) return;
  forget();
  disconnect();
  navigate(`/login?next=${encodeURIComponent(location.pathname + location.search)}`, { replace: true });
});

startRouter(() => render().catch((err) => {
  clear(main).append(h('section', { class: 'page narrow' }, h('h1', { tabindex: -1 }, 'Something went wrong'), h('p', { class: 'alert alert-error', role: 'alert' }, err.message ?? String(err))));
}));
