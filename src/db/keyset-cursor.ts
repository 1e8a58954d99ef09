/**
 * Opaque keyset-pagination cursors: (timestamp, id) of the last row of a page.
 * Keyset rather than offset pagination, so rows inserted between two page
 * reads are neither repeated nor skipped.
 */
import { invalidField } from '../errors.js';
import { isUuid } from '../ids.js';

/** Opaque keyset cursor (timestamp + id). */
export function encodeCursor(t: Date, id: string): string {
  return Buffer.from(JSON.stringify([t.toISOString(), id])).toString('base64url');
}

/** Decode a cursor made by encodeCursor; VALIDATION_FAILED when it is not one. */
export function decodeCursor(cursor: string): [string, string] {
  try {
    const v = JSON.parse(Buffer.from(cursor, 'base64url').toString('utf8')) as unknown;
    // Only what encodeCursor writes: the exact ISO form of a date PostgreSQL can hold (years 1970-9999),
    // so a crafted timestamp ('0', '+275760-...', trailing NUL) is refused here, not by the database.
    if (Array.isArray(v) && v.length === 2 && typeof v[0] === 'string' && typeof v[1] === 'string' && isUuid(v[1])) {
      const t = new Date(v[0]);
      if (!Number.isNaN(t.getTime()) && t.getUTCFullYear() >= 1970 && t.getUTCFullYear() <= 9999 && t.toISOString() === v[0]) return [v[0], v[1]];
    }
  } catch {
    // fall through
  }
  throw invalidField('/cursor', 'is not a cursor this service issued');
}
