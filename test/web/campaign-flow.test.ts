import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { confirm, localInput, signIn, startWebRig, type WebRig } from './browser-kit.ts';

/**
 * The operator's day in a real browser: first-start setup, sign-in, a simulator channel, a CSV
 * import, a filtered campaign sent live to its final status, its failures, a retry; then schedule,
 * reschedule and cancel. Screenshots of the main pages are written on the way.
 */
const ADMIN = { name: 'Ada Admin', email: 'ada@example.com', password: 'correct horse battery' };
const VIP = 50;
const NEWS = 26;
const FAILING = 4;

function contactsCsv(): string {
  const rows = ['name,provider_user_id,tags'];
  for (let i = 0; i < VIP; i++) rows.push(`Customer ${i + 1},${i < FAILING ? 'fail-' : 'user-'}${1000 + i},vip${i % 5 === 0 ? ';news' : ''}`);
  for (let i = 0; i < NEWS; i++) rows.push(`Reader ${i + 1},news-${2000 + i},news`);
  rows.push('Other Person,other-1,other');
  rows.push('No Id,,vip');
  rows.push('"Quoted, Name",user-quoted,"vip;news"');
  return rows.join('\n') + '\n';
}
// Audience vip OR news: VIP + NEWS + the quoted one (vip-and-news contacts count once).
const AUDIENCE = VIP + NEWS + 1;

describe('web app: campaign flow in Chromium', { timeout: 60_000 }, () => {
  let rig: WebRig;
  let page: Page;
  let channelId: string;
  let campaignId: string;

  beforeAll(async () => {
    rig = await startWebRig();
    page = await rig.newPage();
  }, 60_000);
  afterAll(async () => rig?.close());

  it('first start shows setup, which creates the admin; then sign-in', async () => {
    await page.goto('/campaigns');
    await page.waitForURL('**/setup');
    await page.fill('input[name=name]', ADMIN.name);
    await page.fill('input[name=email]', ADMIN.email);
    await page.fill('input[name=password]', ADMIN.password);
    await page.click('button[type=submit]');
    await page.waitForURL('**/login?setup=1**');
    expect(await page.inputValue('input[name=email]')).toBe(ADMIN.email);
    await page.fill('input[name=password]', 'wrong password!');
    await page.click('button[type=submit]');
    await expect.poll(() => page.textContent('[role=alert]')).toContain('Email or password is incorrect');
    await signIn(page, ADMIN.email, ADMIN.password);
    await page.waitForURL('**/campaigns');
    await page.getByRole('heading', { name: 'Campaigns' }).waitFor();
    expect(await page.textContent('.topbar')).toContain('Ada Admin');
    expect((await rig.t.api('GET', '/api/v1/setup', undefined, null)).body.needsSetup).toBe(false);
    await page.goto('/setup');
    await page.waitForURL('**/login');
  });

  it('adds a simulator channel with a slow rate and shows its webhook URL', async () => {
    await page.goto('/channels');
    await page.selectOption('#channel-provider', 'simulator');
    await page.fill('#channel-name', 'Shop simulator');
    await page.fill('#channel-rate', '20');
    await page.fill('#sim-latency', '0');
    await page.click('#add-channel button[type=submit]');
    const card = page.locator('.channel-card', { hasText: 'Shop simulator' });
    await card.waitFor();
    channelId = (await card.getAttribute('data-channel-id'))!;
    expect(await card.locator('input[id^=webhook-]').inputValue()).toBe(`${rig.base}/webhooks/${channelId}`);
    await card.getByRole('button', { name: 'Test connection' }).click();
    await expect.poll(() => card.locator('.test-result').textContent()).toContain('Connection OK');
    await rig.shot(page, 'channels');
  });

  it('imports contacts from CSV with upload progress and a report of rejected rows', async () => {
    await page.goto('/contacts');
    await page.getByRole('button', { name: 'Import CSV' }).click();
    await page.setInputFiles('#csv-file', { name: 'customers.csv', mimeType: 'text/csv', buffer: Buffer.from(contactsCsv()) });
    await page.selectOption('#csv-channel', channelId);
    await page.click('#csv-import button[type=submit]');
    const report = page.locator('#import-report');
    await expect.poll(() => report.textContent()).toContain(`${VIP + NEWS + 2} imported`);
    expect(await report.textContent()).toContain('1 rejected');
    expect(await page.locator('#rejected-rows tbody tr').allTextContents()).toEqual([expect.stringContaining('provider_user_id is empty')]);
    expect(await page.getAttribute('#csv-progress', 'value')).toBe('100');
    // Search, filter, edit tags, opt out.
    await page.fill('#contact-search', 'Quoted');
    await expect.poll(() => page.locator('#contacts-table tbody tr').count()).toBe(1);
    const row = page.locator('#contacts-table tbody tr').first();
    expect(await row.textContent()).toContain('Quoted, Name');
    await row.getByRole('button', { name: /Edit tags/ }).click();
    await row.locator('input').fill('vip, news, quoted');
    await row.getByRole('button', { name: 'Save' }).click();
    await expect.poll(() => row.locator('.chip').allTextContents()).toEqual(['news', 'quoted', 'vip']);
    await page.fill('#contact-search', '');
    await page.selectOption('#contact-tag', 'other');
    await expect.poll(() => page.locator('#contacts-table tbody tr').count()).toBe(1);
    const other = page.locator('#contacts-table tbody tr').first();
    await other.getByRole('button', { name: 'Opt out' }).click();
    await expect.poll(() => other.textContent()).toContain('Opted out');
    await page.selectOption('#contact-tag', '');
    await expect.poll(() => page.locator('#contacts-table tbody tr').count()).toBe(50);
    await page.locator('#import-panel summary').click();
    await rig.shot(page, 'contacts');
  });

  it('creates a filtered campaign with a live preview, limits and the audience size, then sends it', async () => {
    await page.goto('/campaigns');
    await page.getByRole('link', { name: 'New campaign' }).click();
    await page.waitForURL('**/campaigns/new');
    await page.fill('#campaign-name', 'Spring sale');
    await page.selectOption('#campaign-channel', channelId);
    await page.fill('#message-text', 'x'.repeat(4100));
    await expect.poll(() => page.textContent('.counter-text')).toContain('4,100 / 4,096');
    expect(await page.textContent('#message-text-error')).toContain('Too long for Simulator');
    await page.fill('#message-text', 'Hi {{name|there}}, our spring sale starts today!');
    await expect.poll(() => page.textContent('.phone .bubble')).toMatch(/^Hi (Customer|Reader|Quoted|Other).*, our spring sale starts today!$/);
    await page.getByText('Filtered by tags').click();
    await page.locator('.tag-list label', { hasText: 'vip' }).locator('input').check();
    await page.locator('.tag-list label', { hasText: 'news' }).locator('input').check();
    await expect.poll(() => page.textContent('#audience-size')).toBe(String(AUDIENCE));
    await rig.shot(page, 'campaign-create', true);
    await page.click('#send-now');
    expect(await page.locator('dialog[open]').textContent()).toContain(`${AUDIENCE} contacts`);
    await confirm(page, 'Send now');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    campaignId = new URL(page.url()).pathname.split('/').pop()!;
  });

  it('shows counters moving live over the WebSocket to the final status, with failures explained', async () => {
    const seen = new Set<number>();
    let sendingShot = false;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const sent = Number((await page.textContent('[data-counter=sent]'))!.replace(/\D/g, ''));
      const failed = Number((await page.textContent('[data-counter=failed]'))!.replace(/\D/g, ''));
      const done = sent + failed;
      if (done > 0 && done < AUDIENCE) seen.add(done);
      if (!sendingShot && done >= AUDIENCE / 3) {
        sendingShot = true;
        await rig.shot(page, 'campaign-sending');
      }
      if ((await page.textContent('#campaign-status')) === 'Partial') break;
      await page.waitForTimeout(40);
    }
    expect(await page.textContent('#campaign-status')).toBe('Partial');
    expect(seen.size, `intermediate counter values seen: ${[...seen].join(', ')}`).toBeGreaterThanOrEqual(2);
    expect(await page.textContent('[data-counter=total]')).toBe(String(AUDIENCE));
    await expect.poll(() => page.textContent('[data-counter=failed]')).toBe(String(FAILING));
    expect(await page.textContent('[data-counter=sent]')).toBe(String(AUDIENCE - FAILING));
    // Failures grouped by reason, with the reference page's advice.
    const group = page.locator('.failure-group[data-error-class=invalid_recipient]');
    await group.waitFor();
    expect(await group.textContent()).toContain('Invalid provider user ID');
    expect(await group.textContent()).toContain("The recipient's account may have been deleted or the provider ID is no longer valid.");
    expect(await group.textContent()).toContain(String(FAILING));
    expect(await page.textContent('#stats-h + dl')).toContain('Completion time');
    expect(await page.locator('.timeline li.done').count()).toBe(3);
    expect(await page.locator('.chart svg path.line-sent').count()).toBe(1);
    // The recipients table filters by status and shows the provider's error.
    await group.getByRole('button', { name: 'Show recipients' }).click();
    await expect.poll(() => page.locator('#recipients-table tbody tr').count()).toBe(FAILING);
    expect(await page.locator('#recipients-table tbody').textContent()).toContain('does not exist');
    expect(await page.getAttribute('#recipients a[download]', 'href')).toBe(`/api/v1/campaigns/${campaignId}/recipients.csv?status=failed`);
    await page.evaluate(() => window.scrollTo(0, 0));
    await rig.shot(page, 'campaign-detail', true);
  });

  it('retries the failed recipients: the new campaign opens, linked to its parent', async () => {
    await page.click('[data-action=retry-failed]');
    await confirm(page, 'Create retry campaign');
    await page.waitForURL((u) => u.pathname.startsWith('/campaigns/') && !u.pathname.endsWith(campaignId));
    const retryId = new URL(page.url()).pathname.split('/').pop()!;
    await page.locator('#retry-of').waitFor();
    expect(await page.getAttribute('#retry-of', 'data-parent-id')).toBe(campaignId);
    expect(await page.textContent('#campaign-status')).toBe('Draft');
    await expect.poll(() => page.textContent('#audience-now')).toBe(String(FAILING));
    const api = await rig.t.api('GET', `/api/v1/campaigns/${retryId}`);
    expect(api.body).toMatchObject({ parentCampaignId: campaignId, status: 'draft' });
  });

  it('schedules in the future only, reschedules and cancels', async () => {
    await page.goto('/campaigns/new');
    await page.fill('#campaign-name', 'Weekend promo');
    await page.selectOption('#campaign-channel', channelId);
    await page.fill('#message-text', 'See you this weekend, {{name}}');
    await page.fill('#schedule-at', localInput(new Date(Date.now() - 3600_000)));
    await page.click('#create-schedule');
    expect(await page.textContent('#schedule-at-error')).toContain('future');
    const at = new Date(Date.now() + 2 * 3600_000);
    at.setSeconds(0, 0);
    await page.fill('#schedule-at', localInput(at));
    await page.click('#create-schedule');
    await page.waitForURL(/\/campaigns\/[0-9a-f-]{36}$/);
    const id = new URL(page.url()).pathname.split('/').pop()!;
    await expect.poll(() => page.textContent('#campaign-status')).toBe('Scheduled');
    expect((await rig.t.api('GET', `/api/v1/campaigns/${id}`)).body.timeline.scheduledAt).toBe(at.toISOString());

    const later = new Date(at.getTime() + 24 * 3600_000);
    await page.click('[data-action=schedule]');
    await page.fill('#reschedule-at', localInput(later));
    await confirm(page, 'Reschedule');
    await expect.poll(async () => (await rig.t.api('GET', `/api/v1/campaigns/${id}`)).body.timeline.scheduledAt).toBe(later.toISOString());

    await page.click('[data-action=cancel]');
    await confirm(page, 'Cancel schedule');
    await expect.poll(() => page.textContent('#campaign-status')).toBe('Draft');
    expect((await rig.t.api('GET', `/api/v1/campaigns/${id}`)).body.timeline.scheduledAt).toBeNull();
  });

  it('lists campaigns with status, counters and times, live for the sending ones, filtered by status', async () => {
    const api = rig.t.api;
    const retry = (await api('GET', '/api/v1/campaigns?status=draft')).body.items.find((c: any) => c.parentCampaignId === campaignId);
    await api('POST', `/api/v1/campaigns/${retry.id}/send`);
    await api('POST', '/api/v1/campaigns', { name: 'Black Friday teaser', channelId, message: { type: 'text', text: 'Soon!' }, audience: { type: 'tags', tags: ['vip'] }, scheduledAt: new Date(Date.now() + 3 * 86400_000).toISOString() });
    const flash = (await api('POST', '/api/v1/campaigns', { name: 'Flash sale', channelId, message: { type: 'text', text: 'Flash sale now, {{name}}!' }, audience: { type: 'all' } })).body;
    await page.goto('/campaigns');
    await api('POST', `/api/v1/campaigns/${flash.id}/send`);
    const row = page.locator(`tr[data-campaign-id="${flash.id}"]`);
    const seen = new Set<number>();
    let shot = false;
    for (const deadline = Date.now() + 30_000; Date.now() < deadline;) {
      const sent = Number(await row.locator('[data-field=sent]').textContent());
      if (sent > 0 && sent < AUDIENCE - FAILING) seen.add(sent);
      if (!shot && sent >= 20) {
        shot = true;
        await rig.shot(page, 'campaign-list');
      }
      if ((await row.locator('[data-field=status]').textContent()) === 'Partial') break;
      await page.waitForTimeout(40);
    }
    expect(await row.locator('[data-field=status]').textContent()).toBe('Partial');
    expect(seen.size).toBeGreaterThanOrEqual(2);
    expect(await row.locator('[data-field=total]').textContent()).toBe(String(AUDIENCE));
    const sale = page.locator(`tr[data-campaign-id="${campaignId}"]`);
    expect(await sale.locator('[data-field=status]').textContent()).toBe('Partial');
    expect(await sale.locator('[data-field=sent]').textContent()).toBe(String(AUDIENCE - FAILING));
    expect(await sale.locator('[data-field=failed]').textContent()).toBe(String(FAILING));
    expect(await sale.textContent()).toContain('Completed');
    // The retry campaign may still be finishing on a loaded machine: first the engine must end it,
    // then its row must show it (live event, or the state sent on subscription).
    await expect.poll(async () => (await api('GET', `/api/v1/campaigns/${retry.id}`)).body.status).toBe('failed');
    await expect.poll(() => page.locator(`tr[data-campaign-id="${retry.id}"] [data-field=status]`).textContent()).toBe('Failed');
    expect(await page.locator('tr', { hasText: 'Black Friday teaser' }).textContent()).toContain('Scheduled for');
    await page.getByRole('link', { name: 'Partial', exact: true }).click();
    await expect.poll(() => page.locator('#campaign-table tbody tr').count()).toBe(2);
    expect(rig.pageErrors).toEqual([]);
  });
});
