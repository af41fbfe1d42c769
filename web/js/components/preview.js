// The message as the customer will see it: placeholders filled for one contact, in a chat bubble.
// renderText mirrors src/campaigns/render.ts so the preview is what the engine will send.
import { h } from '../dom.js';
import { providerLabel } from '../labels.js';

const PLACEHOLDER = /\{\{\s*([A-Za-z_][\w.-]*)\s*(?:\|([^}]*))?\}\}/g;

export function renderText(text, vars) {
  return text.replace(PLACEHOLDER, (_m, key, fallback) => {
    const v = vars[key];
    if (v === undefined || v === null || v === '') return fallback?.trim() ?? '';
    return String(v);
  });
}

export function placeholdersOf(text) {
  return [...new Set([...String(text).matchAll(PLACEHOLDER)].map((m) => m[1]))];
}

/** The variables a contact's message is rendered with: its attributes, and its name. */
export const contactVars = (contact) => ({ ...(contact?.attributes ?? {}), name: contact?.name ?? '' });

function templateParams(message) {
  const body = (message.template.components ?? []).find((c) => c.type === 'body');
  return (body?.parameters ?? []).map((p) => p.text ?? '');
}

/** A phone-like frame with the channel's name and the rendered message. */
export function messagePreview(message, { channel, vars = {} } = {}) {
  let bubble;
  if (!message) bubble = h('div', { class: 'bubble muted' }, 'Nothing to preview yet.');
  else if (message.type === 'text') {
    const text = renderText(message.text ?? '', vars);
    bubble = h('div', { class: 'bubble' }, text || h('span', { class: 'muted' }, 'Your message appears here.'));
  } else if (message.type === 'image') {
    const img = message.url ? h('img', { src: message.url, alt: 'Message image', loading: 'lazy' }) : null;
    const broken = h('div', { class: 'img-missing', hidden: Boolean(img) }, message.url ? 'The image cannot be loaded from this URL.' : 'Add an image URL.');
    img?.addEventListener('error', () => { img.remove(); broken.hidden = false; });
    bubble = h('div', { class: 'bubble bubble-image' }, img, broken, message.caption ? h('div', { class: 'caption' }, renderText(message.caption, vars)) : null);
  } else {
    const params = templateParams(message).map((p) => renderText(p, vars));
    bubble = h('div', { class: 'bubble bubble-template' },
      h('div', { class: 'tpl-head' }, 'WhatsApp template ', h('strong', {}, message.template.name || '(name)'), ` · ${message.template.language || ''}`),
      params.length
        ? h('ol', { class: 'tpl-params' }, params.map((p, i) => h('li', {}, h('code', {}, `{{${i + 1}}}`), ' ', p || h('span', { class: 'muted' }, '(empty)'))))
        : h('p', { class: 'muted small' }, 'No parameters: the approved template text is sent as it is.'),
      h('p', { class: 'muted small' }, 'WhatsApp shows the approved template text with these values.'));
  }
  return h('div', { class: 'phone', 'aria-label': 'Message preview' },
    h('div', { class: 'phone-head' }, h('span', { class: 'avatar', 'aria-hidden': 'true' }, (channel?.name ?? '?').slice(0, 1).toUpperCase()),
      h('div', {}, h('strong', {}, channel?.name ?? 'Your channel'), h('div', { class: 'small muted' }, channel ? providerLabel(channel.provider) : ''))),
    h('div', { class: 'phone-body' }, bubble));
}
