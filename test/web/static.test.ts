import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startHerald, type TestHerald } from '../helpers/harness.ts';

/** The web app's files as Herald serves them: types, revalidation, client routes, boundaries. */
describe('web app files', () => {
  let t: TestHerald;
  const get = (url: string, headers: Record<string, string> = {}) => t.herald.app!.inject({ method: 'GET', url, headers });

  beforeAll(async () => {
    t = await startHerald('sqlite', { worker: false });
  });
  afterAll(() => t.close());

  it('serves index.html at / and for client routes, with a strict CSP', async () => {
    for (const url of ['/', '/campaigns', '/campaigns/0192/edit', '/login?next=%2Fcontacts']) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe('text/html; charset=utf-8');
      expect(res.body).toContain('<script type="module" src="/js/main.js">');
      expect(String(res.headers['content-security-policy'])).toContain("script-src 'self'");
    }
  });

  it('serves assets with their content types and revalidates them by ETag', async () => {
    const types: Record<string, string> = { '/js/main.js': 'text/javascript; charset=utf-8', '/styles.css': 'text/css; charset=utf-8', '/favicon.svg': 'image/svg+xml' };
    for (const [url, type] of Object.entries(types)) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(200);
      expect(res.headers['content-type']).toBe(type);
      expect(res.headers['cache-control']).toBe('no-cache');
      expect(res.headers['x-content-type-options']).toBe('nosniff');
      const again = await get(url, { 'if-none-match': String(res.headers.etag) });
      expect(again.statusCode).toBe(304);
      expect(again.body).toBe('');
    }
    expect((await t.herald.app!.inject({ method: 'HEAD', url: '/styles.css' })).statusCode).toBe(200);
  });

  it('answers 404 for missing files, paths outside web/, and unknown API routes', async () => {
    expect((await get('/js/nope.js')).statusCode).toBe(404);
    expect((await get('/../package.json')).statusCode).toBe(404);
    expect((await get('/%2e%2e/package.json')).statusCode).toBe(404);
    expect((await get('/js/%2e%2e/%2e%2e/package.json')).statusCode).toBe(404);
    const api = await get('/api/v1/nope', { authorization: 'Bearer test-admin-key-0123456789abcdef' });
    expect(api.statusCode).toBe(404);
    expect(api.json().error.code).toBe('not_found');
    expect((await get('/webhooks/nope')).statusCode).toBe(404);
  });
});
