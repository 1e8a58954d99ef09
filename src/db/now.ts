/**
 * The database's clock, the one every validity window is compared with: the
 * service's own clock may drift from PostgreSQL's, and SQL checks (the
 * release statement's `now() < valid_until`) use PostgreSQL's.
 */
import type { EntityManager } from 'typeorm';

/** now() of the transaction tx: fixed at its start, so every check in it sees the same instant. */
export async function databaseNow(tx: EntityManager): Promise<Date> {
  const rows = (await tx.query('SELECT now() AS now')) as Array<{ now: Date }>;
  return rows[0]!.now;
}
