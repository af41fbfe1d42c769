import { z } from 'zod';
import type { DocumentedRoute } from './route-kit.ts';

function schemaOf(s: z.ZodType, io: 'input' | 'output' = 'input') {
  const json = z.toJSONSchema(s, { io, unrepresentable: 'any' }) as Record<string, unknown>;
  delete json.$schema;
  return json;
}

/** Builds the OpenAPI 3.1 document from the routes as registered (one source of truth). */
export function buildOpenApi(routes: DocumentedRoute[], version: string) {
  const paths: Record<string, Record<string, unknown>> = {};
  for (const r of routes) {
    const params = [...r.url.matchAll(/\{(\w+)\}/g)].map((m) => ({ name: m[1], in: 'path', required: true, schema: { type: 'string' } }));
    const query: unknown[] = [];
    if (r.query) {
      const js = schemaOf(r.query) as { properties?: Record<string, unknown>; required?: string[] };
      for (const [name, schema] of Object.entries(js.properties ?? {})) query.push({ name, in: 'query', required: js.required?.includes(name) ?? false, schema });
    }
    const op: Record<string, unknown> = {
      summary: r.summary,
      tags: [r.tag],
      operationId: `${r.method.toLowerCase()}_${r.url.replace(/[^\w]+/g, '_').replace(/^_|_$/g, '')}`,
      parameters: [...params, ...query],
      responses: {
        [String(r.success.status)]: { description: r.success.description },
        '4XX': { description: 'Error', content: { 'application/json': { schema: { $ref: '#/components/schemas/Error' } } } },
      },
      ...(r.role === 'public' ? { security: [] } : { 'x-required-role': r.role }),
    };
    if (r.contentType) op.requestBody = { required: true, content: { [r.contentType]: { schema: { type: 'string' } } } };
    else if (r.body) op.requestBody = { required: true, content: { 'application/json': { schema: schemaOf(r.body) } } };
    (paths[r.url] ??= {})[r.method.toLowerCase()] = op;
  }
  return {
    openapi: '3.1.0',
    info: { title: 'Herald API', version, description: 'Broadcast campaigns over chat channels. Authenticate with `Authorization: Bearer <API key>`.' },
    servers: [{ url: '/' }],
    security: [{ bearer: [] }],
    paths,
    components: {
      securitySchemes: { bearer: { type: 'http', scheme: 'bearer' } },
      schemas: {
        Error: {
          type: 'object',
          required: ['error'],
          properties: { error: { type: 'object', required: ['code', 'message'], properties: { code: { type: 'string' }, message: { type: 'string' }, details: {} } } },
        },
      },
    },
  };
}
