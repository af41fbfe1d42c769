import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Page } from 'playwright-core';
import { addContacts, simulatorChannel } from '../helpers/harness.ts';
import { apiFromPage, signIn, startWebRig, type WebRig } from './browser-kit.ts';

/**
 * Roles and tenants in the browser: an admin invites a viewer in the UI, the viewer sees no
 * button that changes anything and the API refuses their session; a user of another workspace
 * sees none of this workspace's campaigns, in the UI or through the API.
 */
const CSRF = { 'x-herald-csrf': '1' };

describe('web app: roles and workspaces in Chromium', { timeout: 60_000 }, () => {
  let rig: WebRig;
  let admin: Page;
  let campaignId: string;
  let oneTimePassword: string;

  beforeAll(async () => {
    rig = await startWebRig();
    const { t } = rig;
    expect((await t.api('POST', '/api/v1/setup', { email: 'boss@example.com', name: 'Boss', password: 'boss password 1' }, null, CSRF)).status).toBe(201);
    const channel = await simulatorChannel(t, {}, 1000);
    await addContacts(t, channel, [{ id: 'a1', tags: ['vip'] }, { id: 'a2' }]);
    campaignId = (await t.api('POST', '/api/v1/campaigns', { name: 'Members only', channelId: channel, message: { type: 'text', text: 'Hello' }, audience: { type: 'all' } })).body.id;
    admin = await rig.newPage();
    await signIn(admin, 'boss@example.com', 'boss password 1');
  }, 60_000);
  afterAll(async () => rig?.close());

  it('an admin invites a viewer on the users page; the one-time password is shown once', async () => {
    await admin.goto('/users');
    await admin.fill('#invite-email', 'val@example.com');
    await admin.fill('#invite-name', 'Val Viewer');
    await admin.selectOption('#invite-role', 'viewer');
    await admin.click('#invite-user button[type=submit]');
    await admin.locator('#one-time-password code').waitFor();
    oneTimePassword = (await admin.textContent('#one-time-password code'))!;
    expect(oneTimePassword).toMatch(/^\w{4}-\w{4}-\w{4}-\w{4}$/);
    await expect.poll(() => admin.locator('#users-table tbody tr').count()).toBe(2);
    expect(await admin.locator('#users-table tbody tr', { hasText: 'val@example.com' }).locator('select').inputValue()).toBe('viewer');
    await rig.shot(admin, 'users');
  });

  it('admins create an API key shown once, and revoke it', async () => {
    await admin.goto('/api-keys');
    await admin.fill('#key-name', 'CRM sync');
    await admin.selectOption('#key-role', 'operator');
    await admin.click('#create-key button[type=submit]');
    const key = (await admin.locator('#new-key code.secret').textContent())!;
    expect(key).toMatch(/^hrld_/);
    expect((await rig.t.api('GET', '/api/v1/campaigns', undefined, key)).status).toBe(200);
    const row = admin.locator('#keys-table tbody tr', { hasText: 'CRM sync' });
    await row.getByRole('button', { name: 'Revoke' }).click();
    await admin.locator('dialog[open]').getByRole('button', { name: 'Revoke key' }).click();
    await expect.poll(() => row.textContent()).toContain('Revoked');
    expect((await rig.t.api('GET', '/api/v1/campaigns', undefined, key)).status).toBe(401);
  });

  it('a viewer sees no send or edit buttons, and the API refuses their session', async () => {
    const viewer = await rig.newPage();
    await signIn(viewer, 'val@example.com', oneTimePassword);
    await viewer.waitForURL('**/account?first=1');
    await viewer.getByText('Choose your own password now').waitFor();
    await viewer.fill('#current-password', oneTimePassword);
    await viewer.fill('#new-password', 'viewer password 1');
    await viewer.getByRole('button', { name: 'Change password' }).click();
    await viewer.locator('.alert-warn').waitFor({ state: 'hidden' });

    await viewer.goto('/campaigns');
    await viewer.locator(`tr[data-campaign-id="${campaignId}"]`).waitFor();
    expect(await viewer.getByRole('link', { name: 'New campaign' }).count()).toBe(0);
    expect(await viewer.locator('.topbar nav').textContent()).not.toContain('Users');
    await viewer.click(`tr[data-campaign-id="${campaignId}"] a`);
    await viewer.locator('#campaign-status').waitFor();
    expect(await viewer.locator('[data-action]').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Send now' }).count()).toBe(0);
    await viewer.goto('/channels');
    await viewer.locator('.channel-card').first().waitFor();
    expect(await viewer.locator('#add-channel').count()).toBe(0);
    expect(await viewer.getByRole('button', { name: 'Test connection' }).count()).toBe(0);
    await viewer.goto('/users');
    expect(await viewer.textContent('h1')).toBe('Not available');

    const send = await apiFromPage(viewer, 'POST', `/api/v1/campaigns/${campaignId}/send`);
    expect(send.status).toBe(403);
    expect(send.body.error.code).toBe('forbidden');
    expect((await apiFromPage(viewer, 'GET', '/api/v1/users')).status).toBe(403);
    expect((await apiFromPage(viewer, 'GET', `/api/v1/campaigns/${campaignId}`)).status).toBe(200);
    expect((await rig.t.api('GET', `/api/v1/campaigns/${campaignId}`)).body.status).toBe('draft');
  });

  it('a user of another workspace sees none of these campaigns, in the UI or the API', async () => {
    const otherAdminKey = await rig.t.keyFor('acme');
    expect((await rig.t.api('POST', '/api/v1/users', { email: 'ola@acme.example', name: 'Ola Acme', role: 'admin', password: 'acme password 1' }, otherAdminKey)).status).toBe(201);
    const other = await rig.newPage();
    await signIn(other, 'ola@acme.example', 'acme password 1');
    await other.waitForURL('**/campaigns');
    await other.locator('.empty').waitFor();
    expect(await other.textContent('main')).toContain('No campaigns yet');
    expect(await other.textContent('main')).not.toContain('Members only');
    expect(await other.textContent('.topbar')).toContain('acme');
    await other.goto(`/campaigns/${campaignId}`);
    await expect.poll(() => other.textContent('main')).toContain('Campaign not found');
    expect((await apiFromPage(other, 'GET', '/api/v1/campaigns')).body.items).toEqual([]);
    expect((await apiFromPage(other, 'GET', `/api/v1/campaigns/${campaignId}`)).status).toBe(404);
    expect((await apiFromPage(other, 'POST', `/api/v1/campaigns/${campaignId}/send`)).status).toBe(404);
    expect((await apiFromPage(other, 'GET', '/api/v1/contacts')).body.items).toEqual([]);
    expect((await apiFromPage(other, 'GET', '/api/v1/users')).body.items.map((u: any) => u.email)).toEqual(['ola@acme.example']);
    await other.goto('/contacts');
    await expect.poll(() => other.textContent('main')).toContain('No contacts match');
    expect(rig.pageErrors).toEqual([]);
  });
});
