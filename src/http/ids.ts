/** Identifier checks shared by the routes and services. */

const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** True for a canonical UUID string (what every object id is). */
export function isUuid(s: unknown): s is string {
  return typeof s === 'string' && UUID.test(s);
}
