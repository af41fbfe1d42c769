import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { z, type ZodType } from 'zod';
import { ApiError } from './errors.ts';
import type { AuthContext, Role } from '../workspaces/workspaces-store.ts';

export type Method = 'GET' | 'POST' | 'PATCH' | 'DELETE' | 'PUT';

/** One documented endpoint: drives both the Fastify route and its OpenAPI entry. */
export interface RouteSpec<B extends ZodType | undefined, Q extends ZodType | undefined> {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  /** Minimum role; `public` needs no key. */
  role: Role | 'public';
  body?: B;
  query?: Q;
  /** Request content type when not JSON (e.g. text/csv). */
  contentType?: string;
  bodyLimit?: number;
  /** Status and a short description of the success answer. */
  success: { status: number; description: string };
  handler: (ctx: {
    req: FastifyRequest;
    reply: FastifyReply;
    auth: AuthContext;
    body: B extends ZodType ? z.infer<B> : undefined;
    query: Q extends ZodType ? z.infer<Q> : undefined;
    params: Record<string, string>;
  }) => Promise<unknown>;
}

export interface DocumentedRoute {
  method: Method;
  url: string;
  summary: string;
  tag: string;
  role: Role | 'public';
  body?: ZodType;
  query?: ZodType;
  contentType?: string;
  success: { status: number; description: string };
}

const RANK: Record<Role, number> = { viewer: 0, operator: 1, admin: 2 };

export function hasRole(auth: AuthContext, needed: Role): boolean {
  return RANK[auth.role] >= RANK[needed];
}

const MAX_DEPTH = 32;

/**
 * Rejects what no schema should have to think about: nesting deeper than 32 levels (a recursive
 * walk or JSON.stringify of it would overflow the stack) and NUL characters (PostgreSQL text
 * cannot store them). Iterative, so hostile depth cannot hurt the check itself.
 */
export function checkInputShape(value: unknown, where: string): void {
  const stack: { v: unknown; depth: number }[] = [{ v: value, depth: 0 }];
  while (stack.length) {
    const { v, depth } = stack.pop()!;
    if (typeof v === 'string') {
      if (v.includes('\u0000')) throw new ApiError('validation_failed', `Invalid ${where}: strings must not contain NUL characters`);
    } else if (v !== null && typeof v === 'object') {
      if (depth >= MAX_DEPTH) throw new ApiError('validation_failed', `Invalid ${where}: nested deeper than ${MAX_DEPTH} levels`);
      for (const [k, child] of Object.entries(v)) {
        if (k.includes('\u0000')) throw new ApiError('validation_failed', `Invalid ${where}: keys must not contain NUL characters`);
        stack.push({ v: child, depth: depth + 1 });
      }
    }
  }
}

/** Validates input with a zod schema; a failure is a 400 naming each bad field. */
export function parseInput<S extends ZodType>(schema: S, value: unknown, where: 'body' | 'query'): z.infer<S> {
  checkInputShape(value, where);
  const res = schema.safeParse(value);
  if (!res.success) {
    const details = res.error.issues.map((i) => ({ path: [where, ...i.path.map(String)].join('.'), message: i.message }));
    throw new ApiError('validation_failed', `Invalid ${where}: ${details.map((d) => `${d.path}: ${d.message}`).join('; ')}`.slice(0, 1000), details);
  }
  return res.data;
}

export class Routes {
  readonly documented: DocumentedRoute[] = [];
  constructor(private readonly app: FastifyInstance) {}

  add<B extends ZodType | undefined = undefined, Q extends ZodType | undefined = undefined>(spec: RouteSpec<B, Q>): void {
    this.documented.push({ method: spec.method, url: spec.url, summary: spec.summary, tag: spec.tag, role: spec.role, body: spec.body, query: spec.query, contentType: spec.contentType, success: spec.success });
    this.app.route({
      method: spec.method,
      url: spec.url.replace(/\{(\w+)\}/g, ':$1'),
      bodyLimit: spec.bodyLimit,
      config: { role: spec.role },
      handler: async (req, reply) => {
        const auth = req.auth as AuthContext;
        // Never reached without credentials (the onRequest hook refuses first); a guard all the same.
        if (spec.role !== 'public' && !auth) throw new ApiError('unauthorized', 'Missing API key: send Authorization: Bearer <key>, or sign in');
        if (spec.role !== 'public' && !hasRole(auth, spec.role)) {
          throw new ApiError('forbidden', `This action needs the ${spec.role} role; you have ${auth.role}`);
        }
        checkInputShape(req.params, 'path');
        const body = spec.body ? parseInput(spec.body, req.body, 'body') : undefined;
        const query = spec.query ? parseInput(spec.query, req.query ?? {}, 'query') : undefined;
        const result = await spec.handler({ req, reply, auth, body: body as never, query: query as never, params: req.params as Record<string, string> });
        if (reply.sent) return reply;
        if (result === undefined) return reply.code(spec.success.status).send();
        return reply.code(spec.success.status).send(result);
      },
    });
  }
}
