// Why recipients failed, grouped by failure class (GET …/failures), each with the provider's codes,
// a sample message and troubleshooting advice for the class.
import { get } from '../api.js';
import { fill, fmtNumber, h } from '../dom.js';
import { WHAT_TO_DO, failureInfo } from '../labels.js';

export function failuresPanel(campaignId, { onShow } = {}) {
  const body = h('div', {});
  const el = h('section', { class: 'card', id: 'failures', 'aria-labelledby': 'failures-h' },
    h('h2', { id: 'failures-h', class: 'h3' }, 'Why messages failed'), body);

  async function load() {
    const { items } = await get(`/campaigns/${campaignId}/failures`);
    if (items.length === 0) {
      el.hidden = true;
      return;
    }
    el.hidden = false;
    const groups = new Map();
    for (const f of items) {
      const g = groups.get(f.errorClass) ?? { count: 0, codes: [] };
      g.count += f.count;
      g.codes.push(f);
      groups.set(f.errorClass, g);
    }
    const total = [...groups.values()].reduce((n, g) => n + g.count, 0);
    fill(body,
      h('ul', { class: 'failure-groups' }, [...groups.entries()].sort((a, b) => b[1].count - a[1].count).map(([cls, g]) => {
        const info = failureInfo(cls);
        return h('li', { class: 'failure-group', dataset: { errorClass: cls ?? '' } },
          h('div', { class: 'row-between' },
            h('h3', { class: 'h4' }, info.title, ' ', h('span', { class: 'count-pill' }, fmtNumber(g.count))),
            onShow ? h('button', { type: 'button', class: 'btn btn-small', onclick: () => onShow(cls) }, 'Show recipients') : null),
          h('p', {}, info.why),
          h('p', { class: 'advice' }, h('strong', {}, 'What to do: '), info.todo),
          h('ul', { class: 'codes' }, g.codes.map((c) => h('li', {},
            h('span', { class: 'muted' }, 'Provider code '), h('code', {}, c.errorCode ?? 'none'), ` · ${fmtNumber(c.count)} recipient${c.count === 1 ? '' : 's'}`,
            c.sampleMessage ? h('div', { class: 'sample' }, `“${c.sampleMessage}”`) : null))));
      })),
      h('details', { class: 'what-to-do', open: total > 0 },
        h('summary', {}, 'What to do when a campaign fails'),
        h('ul', {}, WHAT_TO_DO.map((t) => h('li', {}, t)))));
  }
  return { el, load };
}
