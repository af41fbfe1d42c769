// The message part of the campaign form: text with placeholders, image with caption, or a WhatsApp
// template with parameters; provider limits (from GET /api/v1/providers) checked as you type.
import { field, fill, fmtNumber, h, uid } from '../dom.js';
import { providerLabel } from '../labels.js';

const TYPES = [['text', 'Text'], ['image', 'Image'], ['template', 'WhatsApp template']];

function counter() {
  const el = h('span', { class: 'counter-text' });
  el.show = (n, max) => {
    el.textContent = max ? `${fmtNumber(n)} / ${fmtNumber(max)} characters` : `${fmtNumber(n)} characters`;
    el.classList.toggle('over', Boolean(max && n > max));
  };
  return el;
}

/**
 * messageEditor({ message, onChange }) → { el, value(), validate(), setProvider(info), setKeys(keys) }.
 * validate() returns the first invalid control (to focus) or null, and shows every error.
 */
export function messageEditor({ message, onChange }) {
  let provider = null;
  let type = message?.type ?? 'text';
  const group = uid('msgtype');

  const text = h('textarea', { id: 'message-text', rows: 6, value: message?.type === 'text' ? message.text : '', placeholder: 'Hi {{name|there}}! …' });
  const textCount = counter();
  const textField = field('Message text', text, { hint: 'Placeholders: {{name}} is the contact\u2019s name; any attribute works too, e.g. {{city}}. Add a fallback after a bar: {{name|there}}.' });
  const keys = h('div', { class: 'chips', 'aria-label': 'Insert a placeholder' });
  const insert = (key) => {
    const token = key === 'name' ? '{{name|there}}' : `{{${key}}}`;
    const { selectionStart: a, selectionEnd: b, value } = text;
    text.value = value.slice(0, a) + token + value.slice(b);
    text.focus();
    text.selectionStart = text.selectionEnd = a + token.length;
    changed();
  };
  const textPanel = h('div', { class: 'panel' }, textField, h('div', { class: 'row-between' }, keys, textCount));

  const url = h('input', { id: 'message-image-url', type: 'url', placeholder: 'https://example.com/sale.jpg', value: message?.type === 'image' ? message.url : '' });
  const caption = h('textarea', { id: 'message-caption', rows: 3, value: message?.type === 'image' ? message.caption ?? '' : '' });
  const captionCount = counter();
  const urlField = field('Image URL', url, { hint: 'A public https link to a JPEG or PNG; the provider downloads it when sending.' });
  const captionField = field('Caption (optional, placeholders allowed)', caption);
  const imagePanel = h('div', { class: 'panel' }, urlField, captionField, h('div', { class: 'row-end' }, captionCount));

  const tpl = message?.type === 'template' ? message.template : { name: '', language: 'en_US', components: [] };
  const tplName = h('input', { id: 'template-name', value: tpl.name, placeholder: 'spring_sale', autocomplete: 'off' });
  const tplLang = h('input', { id: 'template-language', value: tpl.language, placeholder: 'en_US', autocomplete: 'off' });
  const params = h('ol', { class: 'params' });
  const addParam = (value = '') => {
    const input = h('input', { value, 'aria-label': `Parameter {{${params.children.length + 1}}}`, placeholder: 'e.g. {{name|friend}}', oninput: changed });
    const li = h('li', {}, input, h('button', { type: 'button', class: 'btn btn-small', 'aria-label': 'Remove parameter', onclick: () => { li.remove(); renumber(); changed(); } }, 'Remove'));
    params.append(li);
    return input;
  };
  const renumber = () => [...params.querySelectorAll('input')].forEach((i, n) => i.setAttribute('aria-label', `Parameter {{${n + 1}}}`));
  for (const p of (tpl.components ?? []).find((c) => c.type === 'body')?.parameters ?? []) addParam(p.text ?? '');
  const tplNameField = field('Template name', tplName, { hint: 'Exactly as approved in WhatsApp Manager.' });
  const templatePanel = h('div', { class: 'panel' },
    h('div', { class: 'grid-2' }, tplNameField, field('Language', tplLang, { hint: 'The approved language code, e.g. en_US, th, ja.' })),
    h('p', { class: 'label' }, 'Body parameters'),
    h('p', { class: 'hint' }, 'They fill {{1}}, {{2}}… of the approved template body, in order, and may use contact placeholders.'),
    params,
    h('button', { type: 'button', class: 'btn btn-small', onclick: () => { addParam().focus(); changed(); } }, 'Add parameter'));

  const typeNote = h('p', { class: 'hint' });
  const radios = TYPES.map(([value, label]) => {
    const input = h('input', { type: 'radio', name: group, value, checked: value === type, onchange: () => { type = value; show(); changed(); } });
    return h('label', { class: 'radio' }, input, ` ${label}`);
  });
  const panels = { text: textPanel, image: imagePanel, template: templatePanel };
  const show = () => {
    for (const [k, p] of Object.entries(panels)) p.hidden = k !== type;
  };

  function value() {
    if (type === 'text') return { type: 'text', text: text.value };
    if (type === 'image') return { type: 'image', url: url.value.trim(), ...(caption.value.trim() ? { caption: caption.value } : {}) };
    const parameters = [...params.querySelectorAll('input')].map((i) => ({ type: 'text', text: i.value }));
    return { type: 'template', template: { name: tplName.value.trim(), language: tplLang.value.trim(), components: parameters.length ? [{ type: 'body', parameters }] : [] } };
  }

  /** Shows limit errors; with `all`, also the required-field errors (on submit). */
  function check(all) {
    const textMax = provider?.limits?.text ?? null;
    const captionMax = provider?.limits?.caption ?? null;
    const who = provider ? providerLabel(provider.name) : 'this provider';
    textCount.show(text.value.length, textMax);
    captionCount.show(caption.value.length, captionMax);
    let firstBad = null;
    const set = (f, ctrl, msg) => { f.setError(msg); if (msg && !firstBad) firstBad = ctrl; };
    if (type === 'text') {
      set(textField, text, textMax && text.value.length > textMax ? `Too long for ${who}: ${fmtNumber(text.value.length)} characters; the limit is ${fmtNumber(textMax)}.` : all && !text.value.trim() ? 'Write the message.' : null);
    } else if (type === 'image') {
      const okUrl = /^https?:\/\/\S+$/i.test(url.value.trim());
      set(urlField, url, all && !okUrl ? 'Enter an http(s) image URL.' : provider && !provider.images ? `${who} does not take images.` : null);
      // A null caption limit means the provider's images take no caption at all (Messenger).
      const noCaption = Boolean(provider?.images) && captionMax === null;
      set(captionField, caption, noCaption && caption.value ? `${who} images take no caption; send the text as its own campaign.` : captionMax && caption.value.length > captionMax ? `Caption too long for ${who}: the limit is ${fmtNumber(captionMax)} characters.` : null);
    } else {
      set(tplNameField, tplName, provider && !provider.templates ? `Templates are for WhatsApp channels; ${who} does not take them.` : all && !tplName.value.trim() ? 'Enter the template name.' : null);
    }
    return firstBad;
  }

  function changed() {
    check(false);
    onChange?.(value());
  }
  text.addEventListener('input', changed);
  for (const el of [url, caption, tplName, tplLang]) el.addEventListener('input', changed);

  function setProvider(info) {
    provider = info;
    const [, image, template] = radios.map((r) => r.querySelector('input'));
    image.disabled = info ? !info.images : false;
    template.disabled = info ? !info.templates : false;
    typeNote.textContent = info && !info.templates ? `Templates are available on WhatsApp channels (and the simulator); ${providerLabel(info.name)} takes text${info.images ? ' and images' : ''}.` : '';
    check(false);
  }

  function setKeys(list) {
    fill(keys, h('span', { class: 'small muted' }, 'Insert: '), ...list.map((k) => h('button', { type: 'button', class: 'chip chip-button', onclick: () => insert(k) }, `{{${k}}}`)));
  }
  setKeys(['name']);
  show();

  const el = h('fieldset', { class: 'fieldset' }, h('legend', {}, 'Message'), h('div', { class: 'radios', role: 'radiogroup', 'aria-label': 'Message type' }, radios), typeNote, textPanel, imagePanel, templatePanel);
  return { el, value, validate: () => check(true), setProvider, setKeys };
}
