/**
 * What each provider needs in a channel's credentials object. Each adapter exports its list so
 * the README, the API's validation and the UI's channel form read the same source.
 */
export interface CredentialField {
  name: string;
  required: boolean;
  description: string;
}

/** Missing or empty required fields, as messages ready to show; empty when all are present. */
export function missingCredentials(fields: readonly CredentialField[], credentials: Record<string, unknown>): string[] {
  return fields.filter((f) => f.required && !hasValue(credentials[f.name])).map((f) => `credentials.${f.name} is required (${f.description})`);
}

export function hasValue(v: unknown): boolean {
  return (typeof v === 'string' && v.trim() !== '') || (typeof v === 'number' && Number.isFinite(v));
}

/** A credential as a string; callers ran validateCredentials first, so absence is a config error. */
export function credential(credentials: Record<string, unknown>, name: string): string {
  const v = credentials[name];
  if (typeof v === 'number') return String(v);
  return typeof v === 'string' ? v.trim() : '';
}
