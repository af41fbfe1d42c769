import { uuidv7 } from 'uuidv7';

/** Time-ordered identifiers, so ordering by id is ordering by creation (used by cursors). */
export function newId(): string {
  return uuidv7();
}

export function encodeCursor(value: string | number): string {
  return Buffer.from(String(value), 'utf8').toString('base64url');
}

/** Thrown for a cursor that this API did not hand out (the route answers 400 invalid_cursor). */
export class InvalidCursorError extends Error {}

/** Decodes a cursor; ids and row numbers are all this API puts in one, so anything else is refused. */
export function decodeCursor(cursor: string | undefined): string | null {
  if (!cursor) return null;
  const value = Buffer.from(cursor, 'base64url').toString('utf8');
  if (!/^[A-Za-z0-9-]{1,64}$/.test(value)) throw new InvalidCursorError('cursor is not valid');
  return value;
}
