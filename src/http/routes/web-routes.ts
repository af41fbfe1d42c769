import { createHash } from 'node:crypto';
import { readFile, stat } from 'node:fs/promises';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { FastifyInstance, FastifyReply } from 'fastify';

/** The web app's files: plain ES modules and CSS, served as they are (no build step). */
export const WEB_ROOT = fileURLToPath(new URL('../../../web/', import.meta.url));

const TYPES: Record<string, string> = {
  '.html': 'text/html; charset=utf-8',
  '.js': 'text/javascript; charset=utf-8',
  '.css': 'text/css; charset=utf-8',
  '.svg': 'image/svg+xml',
  '.png': 'image/png',
  '.ico': 'image/x-icon',
  '.json': 'application/json; charset=utf-8',
  '.webmanifest': 'application/manifest+json',
  '.txt': 'text/plain; charset=utf-8',
  '.csv': 'text/csv; charset=utf-8',
  '.woff2': 'font/woff2',
};

// Images of campaign messages live on the customer's servers: any http(s) image may be previewed.
const CSP = "default-src 'self'; img-src 'self' data: https: http:; style-src 'self'; script-src 'self'; connect-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'";

/** Paths that belong to the server, never to the single-page app. */
const SERVER_PREFIXES = ['/api/', '/webhooks/', '/metrics'];

interface Asset { body: Buffer; etag: string; mtimeMs: number }
const cache = new Map<string, Asset>();

async function load(file: string): Promise<Asset | null> {
  let st;
  try {
    st = await stat(file);
  } catch {
    return null;
  }
  if (!st.isFile()) return null;
  const hit = cache.get(file);
  if (hit && hit.mtimeMs === st.mtimeMs) return hit;
  const body = await readFile(file);
  const asset = { body, etag: `"${createHash('sha1').update(body).digest('base64url').slice(0, 20)}"`, mtimeMs: st.mtimeMs };
  cache.set(file, asset);
  return asset;
}

function send(reply: FastifyReply, ifNoneMatch: string | undefined, file: string, asset: Asset) {
  const type = TYPES[path.extname(file).toLowerCase()] ?? 'application/octet-stream';
  // File names carry no content hash, so browsers revalidate every time: a cheap 304 while unchanged.
  reply.header('cache-control', 'no-cache').header('etag', asset.etag).header('x-content-type-options', 'nosniff');
  if (type.startsWith('text/html')) {
    reply.header('content-security-policy', CSP).header('referrer-policy', 'same-origin').header('x-frame-options', 'DENY');
  }
  if (ifNoneMatch === asset.etag) return reply.code(304).send();
  return reply.code(200).type(type).send(asset.body);
}

/**
 * GET /* serves web/: a file when it exists, else index.html for client routes (paths without a
 * file extension, such as /campaigns/123), so deep links and reloads work.
 */
export async function registerWebRoutes(app: FastifyInstance, root = WEB_ROOT): Promise<void> {
  const index = path.join(root, 'index.html');
  app.get('/*', async (req, reply) => {
    let urlPath: string;
    try {
      urlPath = decodeURIComponent(req.url.split('?')[0]);
    } catch {
      return reply.callNotFound();
    }
    if (SERVER_PREFIXES.some((p) => urlPath.startsWith(p)) || urlPath.includes('\0')) return reply.callNotFound();
    const file = path.join(root, path.normalize(urlPath));
    if (!file.startsWith(root)) return reply.callNotFound();
    const inm = req.headers['if-none-match'];
    const asset = urlPath.endsWith('/') ? null : await load(file);
    if (asset) return send(reply, inm, file, asset);
    if (path.extname(urlPath) !== '') return reply.callNotFound();
    const html = await load(index);
    if (!html) return reply.callNotFound();
    return send(reply, inm, index, html);
  });
}
