import type { MessageContent } from './types.ts';

export interface MessageRules {
  textMax: number;
  captionMax: number;
  /** Whether the provider takes pre-approved templates (only WhatsApp among the real ones). */
  templates: boolean;
  /** Whether the provider takes images at all. */
  images?: boolean;
}

/** Shared content checks; each adapter passes its own limits. */
export function validateCommonMessage(message: MessageContent, rules: MessageRules): string[] {
  const errors: string[] = [];
  switch (message.type) {
    case 'text':
      if (message.text.length > rules.textMax) errors.push(`text is ${message.text.length} characters; this provider takes at most ${rules.textMax}`);
      break;
    case 'image':
      if (rules.images === false) errors.push('this provider does not take images');
      if (!/^https:\/\//i.test(message.url) && !/^http:\/\//i.test(message.url)) errors.push('image url must be an http(s) URL');
      if (message.caption !== undefined && message.caption.length > rules.captionMax) {
        errors.push(`caption is ${message.caption.length} characters; this provider takes at most ${rules.captionMax}`);
      }
      break;
    case 'template':
      if (!rules.templates) errors.push('templates are only available on WhatsApp channels');
      break;
  }
  return errors;
}
