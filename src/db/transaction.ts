/**
 * Transactions owned by services. The EntityManager of the transaction is
 * passed down explicitly, so a ledger append made with it commits or rolls
 * back together with the change it records.
 */
import type { DataSource, EntityManager } from 'typeorm';

/** Run fn in one READ COMMITTED transaction; commit when it resolves, roll back when it throws. */
export async function inTransaction<T>(ds: DataSource, fn: (tx: EntityManager) => Promise<T>): Promise<T> {
  return ds.transaction('READ COMMITTED', fn);
}

/** What a store function runs its SQL on: a transaction's EntityManager or the data source's manager. */
export type Queryable = Pick<EntityManager, 'query'>;
