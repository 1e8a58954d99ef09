/**
 * Identifier checks shared by the HTTP edge (path parameters), the stores and
 * the cursors: every object id is a canonical UUID, and a string that is not
 * one can name no object, so it is NOT_FOUND without asking the database.
 */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (what every object id is). */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}
