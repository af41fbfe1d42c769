// Words the UI shows for API values: statuses, failure classes with troubleshooting advice (from
// the product's Monitoring & Analytics page), and per-provider help for connecting a channel.
import { h } from './dom.js';

export const STATUSES = ['draft', 'scheduled', 'sending', 'paused', 'sent', 'partial', 'failed', 'cancelled'];

export const STATUS_LABEL = {
  draft: 'Draft', scheduled: 'Scheduled', sending: 'Sending', paused: 'Paused',
  sent: 'Sent', failed: 'Failed', partial: 'Partial', cancelled: 'Cancelled',
};

export const STATUS_HELP = {
  draft: 'Created, not sent or scheduled. You can edit the message and the audience.',
  scheduled: 'Will be delivered at its time. You can reschedule, edit the message, or cancel.',
  sending: 'Delivering now; progress updates live.',
  paused: 'Stopped for now; resume to continue where it stopped.',
  sent: 'All messages were delivered with zero failures.',
  failed: 'All messages failed to deliver. Check the error messages on the recipients.',
  partial: 'Some messages were delivered and some failed. Review the failures below.',
  cancelled: 'Stopped by a person before the end; counts are kept.',
};

export function statusBadge(status) {
  return h('span', { class: `badge badge-${status}`, title: STATUS_HELP[status] ?? '' }, STATUS_LABEL[status] ?? status);
}

export const WAITING_LABEL = {
  rate_limited: 'Waiting: the provider asked Herald to slow down; it resumes by itself.',
  paused: 'Paused.',
  scheduled: 'Waiting for the scheduled time.',
};

/** Failure classes with the reference page's explanation and what to do about each. */
export const FAILURE_CLASSES = {
  invalid_recipient: {
    title: 'Invalid provider user ID',
    why: "The recipient's account may have been deleted or the provider ID is no longer valid.",
    todo: 'Check these contacts\u2019 provider user IDs; correct or remove them. Retrying them unchanged fails again.',
  },
  recipient_blocked: {
    title: 'Recipient blocked or left the channel',
    why: 'The person blocked, unfollowed or never opted in to your channel, so the provider refuses the message.',
    todo: 'They can be reached again only after they message or follow the channel. Consider opting them out.',
  },
  rate_limited: {
    title: 'Rate limiting by provider',
    why: 'The messaging provider (WhatsApp, LINE, etc.) may temporarily block messages if sent too quickly. The system automatically pauses after 5 consecutive failures.',
    todo: "Wait, then use Retry failed to create a new campaign targeting only the failed recipients. Lower the channel's rate limit if it keeps happening.",
  },
  channel_auth: {
    title: 'Channel configuration issue',
    why: "The channel's business provider credentials may have expired or become invalid.",
    todo: 'Verify the channel configuration and provider credentials on the Channels page (Test connection), then Retry failed.',
  },
  content_rejected: {
    title: 'Message content rejected',
    why: 'Some providers have content restrictions. Ensure your message complies with the provider\u2019s policies.',
    todo: 'Edit the message (or pick an approved template) and send the failed recipients again with Retry failed.',
  },
  transient: {
    title: 'Temporary provider error',
    why: 'The provider kept failing (timeouts, server errors) after Herald\u2019s automatic retries, or the result of a send is unknown.',
    todo: 'These usually succeed later: use Retry failed after a while.',
  },
};

export const WHAT_TO_DO = [
  'Check the error messages on the failed recipients below.',
  'Verify your channel configuration and business provider credentials.',
  'For rate limiting, wait and create a new campaign targeting only the failed recipients (Retry failed).',
  'Contact support if the issue persists across multiple campaigns.',
];

export function failureInfo(errorClass) {
  return FAILURE_CLASSES[errorClass] ?? { title: errorClass ?? 'Unknown error', why: 'The provider refused the message.', todo: 'See the error message for details.' };
}

export const PROVIDERS = {
  simulator: {
    label: 'Simulator',
    where: 'Herald\u2019s built-in fake provider for demos and tests; it needs no credentials. Provider user IDs starting with fail- fail as invalid, block- as blocked, reject- as content rejected.',
    webhook: 'The simulator sends no webhooks.',
  },
  whatsapp: {
    label: 'WhatsApp Cloud API',
    where: 'In Meta for Developers, open your app \u2192 WhatsApp \u2192 API Setup: the Phone number ID is listed there. For a token that does not expire, create a System user in Business Settings \u2192 Users \u2192 System users with the whatsapp_business_messaging permission. The App secret is under App settings \u2192 Basic.',
    webhook: 'App \u2192 WhatsApp \u2192 Configuration \u2192 Callback URL: paste this URL and your verify token, then subscribe to the messages field.',
  },
  line: {
    label: 'LINE Official Account',
    where: 'In the LINE Developers Console, open your provider \u2192 Messaging API channel. The Channel secret is on the Basic settings tab; issue a Channel access token (long-lived) at the bottom of the Messaging API tab.',
    webhook: 'Messaging API tab \u2192 Webhook settings: paste this URL, press Verify, and turn on Use webhook.',
  },
  telegram: {
    label: 'Telegram bot',
    where: 'In Telegram, talk to @BotFather: /newbot creates a bot and shows its token (/token shows it again). Choose any long random string as the webhook secret.',
    webhook: 'Call https://api.telegram.org/bot<token>/setWebhook with url = this URL and secret_token = your webhook secret.',
  },
  messenger: {
    label: 'Facebook Messenger',
    where: 'In Meta for Developers, open your app \u2192 Messenger \u2192 Settings and generate a Page access token for your Page. The Page ID is on the Page\u2019s About \u2192 Page transparency section. The App secret is under App settings \u2192 Basic.',
    webhook: 'Messenger \u2192 Settings \u2192 Webhooks: paste this URL and your verify token, then subscribe the Page to messages and messaging_optins.',
  },
  twilio: {
    label: 'Twilio SMS',
    where: 'On the Twilio Console home, Account Info shows the Account SID and Auth token. The sender is a number you own (Phone Numbers \u2192 Active numbers, in E.164 like +15551234567) or a Messaging Service SID (Messaging \u2192 Services).',
    webhook: 'Phone Numbers \u2192 your number \u2192 Messaging: set "A message comes in" to this URL (HTTP POST). Herald asks Twilio to send delivery receipts to the same URL.',
  },
};

export const providerLabel = (p) => PROVIDERS[p]?.label ?? p;
