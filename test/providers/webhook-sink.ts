import { createServer, type IncomingHttpHeaders } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A tiny HTTP server that records webhooks the mocks send, as Herald's route would see them. */
export interface CapturedWebhook {
  headers: IncomingHttpHeaders;
  rawBody: Buffer;
  /** Full URL as the sender addressed it. */
  url: string;
}

export interface WebhookSink {
  url: string;
  captured: CapturedWebhook[];
  /** Resolves once `count` webhooks arrived (or rejects after `timeoutMs`). */
  waitFor(count: number, timeoutMs?: number): Promise<CapturedWebhook[]>;
  close(): Promise<void>;
}

export async function startWebhookSink(): Promise<WebhookSink> {
  const captured: CapturedWebhook[] = [];
  let base = '';
  const server = createServer((req, res) => {
    const chunks: Buffer[] = [];
    req.on('data', (c: Buffer) => chunks.push(c));
    req.on('end', () => {
      captured.push({ headers: req.headers, rawBody: Buffer.concat(chunks), url: `${base}${req.url ?? '/'}` });
      res.writeHead(200).end('ok');
    });
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()));
  const { port } = server.address() as AddressInfo;
  base = `http://127.0.0.1:${port}`;
  return {
    url: `${base}/webhooks`,
    captured,
    async waitFor(count, timeoutMs = 3000) {
      const deadline = Date.now() + timeoutMs;
      while (captured.length < count) {
        if (Date.now() > deadline) throw new Error(`expected ${count} webhooks, got ${captured.length}`);
        await new Promise((r) => setTimeout(r, 10));
      }
      return captured.slice(0, count);
    },
    async close() {
      server.closeAllConnections();
      await new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
