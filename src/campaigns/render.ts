import type { MessageContent, RenderedMessage } from '../providers/types.ts';

/** `{{name}}`, `{{ city }}`, `{{name|there}}`: a key from the contact's name and attributes, optional fallback. */
const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*(?:\|([^}]*))?\}\}/g;

export type Variables = Record<string, unknown>;

export function renderText(text: string, vars: Variables): string {
  return text.replace(PLACEHOLDER, (_m, key: string, fallback: string | undefined) => {
    const v = vars[key];
    if (v === undefined || v === null || v === '') return fallback?.trim() ?? '';
    return String(v);
  });
}

function renderDeep(value: unknown, vars: Variables): unknown {
  if (typeof value === 'string') return renderText(value, vars);
  if (Array.isArray(value)) return value.map((v) => renderDeep(v, vars));
  if (value && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, renderDeep(v, vars)]));
  }
  return value;
}

/** Fills every placeholder of a message for one recipient. */
export function renderMessage(message: MessageContent, vars: Variables): RenderedMessage {
  switch (message.type) {
    case 'text':
      return { type: 'text', text: renderText(message.text, vars) };
    case 'image':
      return { type: 'image', url: message.url, ...(message.caption !== undefined ? { caption: renderText(message.caption, vars) } : {}) };
    case 'template':
      return { type: 'template', template: { ...message.template, components: renderDeep(message.template.components, vars) as unknown[] } };
  }
}

/** The variables a recipient's message is rendered with: its attributes, and its name. */
export function recipientVariables(name: string, attributes: Record<string, unknown>): Variables {
  return { ...attributes, name };
}

/** Placeholder keys used by a message (for previews and checks). */
export function placeholdersOf(message: MessageContent): string[] {
  const text = JSON.stringify(message);
  return [...new Set([...text.matchAll(PLACEHOLDER)].map((m) => m[1]))];
}
