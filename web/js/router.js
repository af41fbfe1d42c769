// A small History-API router: patterns like /campaigns/:id, page modules loaded on demand, links
// intercepted so navigation never reloads the page, focus moved to the new page's heading.

const routes = [];
let renderer = null;

export function route(pattern, load, opts = {}) {
  const keys = [];
  const re = new RegExp(`^${pattern.replace(/:(\w+)/g, (_m, k) => { keys.push(k); return '([^/]+)'; })}/?$`);
  routes.push({ re, keys, load, opts });
}

export function match(pathname) {
  for (const r of routes) {
    const m = r.re.exec(pathname);
    if (m) return { route: r, params: Object.fromEntries(r.keys.map((k, i) => [k, decodeURIComponent(m[i + 1])])) };
  }
  return null;
}

export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  return renderer?.();
}

export function startRouter(render) {
  renderer = render;
  window.addEventListener('popstate', () => render());
  document.addEventListener('click', (e) => {
    const a = e.target.closest?.('a[href]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    const href = a.getAttribute('href');
    if (!href.startsWith('/') || href.startsWith('//') || href.startsWith('/api/') || a.target || a.hasAttribute('download')) return;
    e.preventDefault();
    navigate(href);
  });
  return render();
}
