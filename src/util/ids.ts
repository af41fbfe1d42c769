import { uuidv7 } from 'uuidv7';

/** Time-ordered identifiers, so ordering by id is ordering by creation (used by cursors). */
export function newId(): string {
  return uuidv7();
}

export function encodeCursor(value: string | number): string {
  return Buffer.from(String(value), 'utf8').toString('base64url');
}

export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  return Buffer.from(cursor, 'base64url').toString('utf8');
}
