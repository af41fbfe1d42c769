import { describe, expect, it } from 'vitest';
import { renderMessage, renderText, recipientVariables, placeholdersOf } from '../../src/campaigns/render.ts';
import { actionsFor, finalStatus, isAllowed, CAMPAIGN_STATUSES } from '../../src/campaigns/lifecycle.ts';
import { backoffMs, classify, DEFAULT_RETRY } from '../../src/engine/classify.ts';
import { idempotencyKey } from '../../src/engine/channel-sender.ts';
import { decryptJson, encryptJson } from '../../src/util/secrets.ts';
import { randomBytes } from 'node:crypto';

describe('placeholders', () => {
  const vars = recipientVariables('Ann', { city: 'Tokyo', points: 42, empty: '' });
  it('fills name and attributes, with fallbacks', () => {
    expect(renderText('Hi {{name}} in {{ city }}: {{points}} pts', vars)).toBe('Hi Ann in Tokyo: 42 pts');
    expect(renderText('Hi {{nickname|friend}}!', vars)).toBe('Hi friend!');
    expect(renderText('Hi {{empty|there}}', vars)).toBe('Hi there');
    expect(renderText('Hi {{missing}}.', vars)).toBe('Hi .');
    expect(renderText('{{name|x}} {{name}}', recipientVariables('', {}))).toBe('x ');
    expect(renderText('no {{ placeholders here', vars)).toBe('no {{ placeholders here');
  });
  it('renders captions and template parameters, never the image URL', () => {
    expect(renderMessage({ type: 'image', url: 'https://x/{{name}}.png', caption: 'For {{name}}' }, vars)).toEqual({ type: 'image', url: 'https://x/{{name}}.png', caption: 'For Ann' });
    const tpl = renderMessage({ type: 'template', template: { name: 'promo', language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: '{{name}}' }] }] } }, vars);
    expect(tpl).toEqual({ type: 'template', template: { name: 'promo', language: 'en', components: [{ type: 'body', parameters: [{ type: 'text', text: 'Ann' }] }] } });
    expect(placeholdersOf({ type: 'text', text: '{{name}} {{city|x}} {{name}}' })).toEqual(['name', 'city']);
  });
});

describe('campaign lifecycle table', () => {
  it('allows exactly the actions of PRODUCT.md', () => {
    expect(actionsFor('draft').sort()).toEqual(['delete', 'edit', 'schedule', 'send']);
    expect(actionsFor('scheduled').sort()).toEqual(['cancel', 'edit', 'schedule', 'send']);
    expect(actionsFor('sending').sort()).toEqual(['cancel', 'pause']);
    expect(actionsFor('paused').sort()).toEqual(['cancel', 'resume']);
    expect(actionsFor('sent')).toEqual([]);
    expect(actionsFor('failed')).toEqual(['retry-failed']);
    expect(actionsFor('partial')).toEqual(['retry-failed']);
    expect(actionsFor('cancelled')).toEqual([]);
    for (const s of CAMPAIGN_STATUSES) expect(isAllowed('resume', s)).toBe(s === 'paused');
  });
  it('derives the final status from the counts', () => {
    expect(finalStatus({ sent: 10, failed: 0 })).toBe('sent');
    expect(finalStatus({ sent: 0, failed: 3 })).toBe('failed');
    expect(finalStatus({ sent: 2, failed: 3 })).toBe('partial');
  });
});

describe('engine outcome classification', () => {
  const r = { id: 1, campaignId: 'c', identityId: 'i', providerUserId: 'u', name: 'n', variables: '{}', attempts: 1, transientFailures: 0 };
  it('maps each failure class to what happens to the recipient', () => {
    expect(classify(r, { ok: true, providerMessageId: 'm1' }, false, DEFAULT_RETRY).result.kind).toBe('sent');
    expect(classify(r, { ok: false, errorClass: 'invalid_recipient', code: '1', message: 'm' }, false, DEFAULT_RETRY).result.kind).toBe('failed');
    const blocked = classify(r, { ok: false, errorClass: 'recipient_blocked', code: '1', message: 'm' }, false, DEFAULT_RETRY);
    expect(blocked.result).toMatchObject({ kind: 'failed', optOut: true });
    const limited = classify(r, { ok: false, errorClass: 'rate_limited', code: '429', message: 'm', retryAfterMs: 5000 }, false, DEFAULT_RETRY, 1000);
    expect(limited).toMatchObject({ result: { kind: 'retry', nextAttemptAt: 6000 }, rateLimitedUntil: 6000 });
    expect(classify(r, { ok: false, errorClass: 'channel_auth', code: '190', message: 'expired' }, false, DEFAULT_RETRY)).toMatchObject({ channelAuth: true, result: { kind: 'retry' } });
    expect(classify(r, { ok: false, errorClass: 'transient', code: '500', message: 'm' }, false, DEFAULT_RETRY).result).toMatchObject({ kind: 'retry', transient: true });
    const exhausted = { ...r, transientFailures: DEFAULT_RETRY.maxTransientRetries };
    expect(classify(exhausted, { ok: false, errorClass: 'transient', code: '500', message: 'm' }, false, DEFAULT_RETRY).result.kind).toBe('failed');
  });
  it('never re-sends after a timeout without an idempotency key; retries with one', () => {
    const t = { ok: false as const, errorClass: 'transient' as const, code: 'timeout', message: 'timed out' };
    expect(classify(r, t, false, DEFAULT_RETRY).result).toMatchObject({ kind: 'failed', errorCode: 'delivery_uncertain', errorMessage: 'delivery uncertain' });
    expect(classify(r, t, true, DEFAULT_RETRY).result.kind).toBe('retry');
  });
  it('backs off exponentially with jitter, capped', () => {
    for (let a = 1; a <= 10; a++) {
      const cap = Math.min(DEFAULT_RETRY.maxBackoffMs, DEFAULT_RETRY.baseBackoffMs * 2 ** (a - 1));
      const v = backoffMs(a, DEFAULT_RETRY);
      expect(v).toBeGreaterThanOrEqual(cap / 2);
      expect(v).toBeLessThanOrEqual(cap);
    }
  });
  it('gives each recipient one stable UUID idempotency key', () => {
    const k = idempotencyKey('camp', 7);
    expect(k).toBe(idempotencyKey('camp', 7));
    expect(k).not.toBe(idempotencyKey('camp', 8));
    expect(k).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
  });
});

describe('credential encryption', () => {
  it('round-trips with AES-256-GCM and refuses a tampered or foreign ciphertext', () => {
    const key = randomBytes(32);
    const sealed = encryptJson(key, { token: 'secret-token' });
    expect(sealed).not.toContain('secret-token');
    expect(decryptJson(key, sealed)).toEqual({ token: 'secret-token' });
    const parts = sealed.split('.');
    parts[3] = Buffer.from('tampered').toString('base64url');
    expect(() => decryptJson(key, parts.join('.'))).toThrow();
    expect(() => decryptJson(randomBytes(32), sealed)).toThrow();
  });
});
