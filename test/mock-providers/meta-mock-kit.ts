import { randomBytes } from 'node:crypto';
import { signMetaBody } from '../../src/providers/meta-graph.ts';
import { postWebhook, type MockReply, type MockRequest } from './mock-server.ts';

/** Graph API pieces the WhatsApp and Messenger mocks share: the error envelope and webhook signing. */

export interface GraphErrorSpec {
  code: number;
  message: string;
  subcode?: number;
  type?: string;
  details?: string;
  whatsapp?: boolean;
}

export function graphError(status: number, spec: GraphErrorSpec, headers?: Record<string, string>): MockReply {
  const error: Record<string, unknown> = { message: spec.message, type: spec.type ?? 'OAuthException', code: spec.code };
  if (spec.subcode !== undefined) error.error_subcode = spec.subcode;
  if (spec.details !== undefined || spec.whatsapp) error.error_data = { messaging_product: 'whatsapp', details: spec.details ?? spec.message };
  error.fbtrace_id = `A${randomBytes(10).toString('base64url')}`;
  return { status, body: { error }, headers };
}

export function bearerToken(req: MockRequest): string | undefined {
  const header = req.headers.authorization;
  return header?.startsWith('Bearer ') ? header.slice('Bearer '.length) : undefined;
}

export function graphAuthError(expired: boolean): MockReply {
  return expired
    ? graphError(401, { code: 190, subcode: 463, message: 'Error validating access token: Session has expired on Friday, 01-Mar-24 10:00:00 PST.' })
    : graphError(401, { code: 190, message: 'Invalid OAuth access token - Cannot parse access token' });
}

/** `/{version}/{object-id}[/messages]`; versions look like `v21.0`. */
export function graphPath(path: string): { version: string; objectId: string; edge?: string } | null {
  const m = /^\/(v\d+\.\d+)\/([^/]+)(?:\/([^/]+))?\/?$/.exec(path);
  return m ? { version: m[1], objectId: decodeURIComponent(m[2]), edge: m[3] } : null;
}

export function unsupportedRequest(method: string, objectId: string): MockReply {
  return graphError(400, {
    code: 100,
    subcode: 33,
    type: 'GraphMethodException',
    message: `Unsupported ${method.toLowerCase()} request. Object with ID '${objectId}' does not exist, cannot be loaded due to missing permissions, or does not support this operation.`,
  });
}

export async function sendMetaWebhook(targetUrl: string, payload: unknown, appSecret: string) {
  const body = typeof payload === 'string' ? payload : JSON.stringify(payload);
  return postWebhook(targetUrl, body, { 'content-type': 'application/json', 'x-hub-signature-256': signMetaBody(appSecret, body) });
}
