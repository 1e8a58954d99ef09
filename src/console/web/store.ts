/**
 * What the auditor's page remembers between visits, in IndexedDB: the pinned
 * log verifier key, witness keys and quorum (public keys, chosen by the
 * auditor), and the last checkpoint it verified as the full signed note, kept
 * as evidence. Never any private key.
 */

/** The last checkpoint this browser verified: the note itself and what was read from it. */
export interface SavedCheckpoint {
  origin: string;
  size: number;
  rootHash: string;
  note: string;
  verifiedAt: string;
}

/** What the auditor pinned. */
export interface Pins {
  logKey: string;
  witnessKeys: string[];
  quorum: number;
}

const DB = 'tds-console';
const STORE = 'auditor';

function open(): Promise<IDBDatabase> {
  return new Promise((resolve, reject) => {
    const req = indexedDB.open(DB, 1);
    req.onupgradeneeded = () => req.result.createObjectStore(STORE);
    req.onsuccess = () => resolve(req.result);
    req.onerror = () => reject(req.error ?? new Error('IndexedDB is not available'));
  });
}

async function tx<T>(mode: IDBTransactionMode, fn: (s: IDBObjectStore) => IDBRequest): Promise<T> {
  const db = await open();
  try {
    return await new Promise<T>((resolve, reject) => {
      const t = db.transaction(STORE, mode);
      const req = fn(t.objectStore(STORE));
      t.oncomplete = () => resolve(req.result as T);
      t.onerror = () => reject(t.error ?? new Error('IndexedDB transaction failed'));
    });
  } finally {
    db.close();
  }
}

/** Read a stored value. */
export function load<T>(key: string): Promise<T | undefined> {
  return tx<T | undefined>('readonly', (s) => s.get(key));
}

/** Store a value (committed when the promise resolves). */
export async function save(key: string, value: unknown): Promise<void> {
  await tx('readwrite', (s) => s.put(value, key));
}

/** Remove a stored value. */
export async function remove(key: string): Promise<void> {
  await tx('readwrite', (s) => s.delete(key));
}

/** Keys of the stored values. */
export const PINS = 'pins';
/** The last verified checkpoint, per origin: `checkpoint:<origin>`. */
export const checkpointKey = (origin: string): string => `checkpoint:${origin}`;
/** A refused checkpoint kept beside the last good one: `conflict:<origin>`. */
export const conflictKey = (origin: string): string => `conflict:${origin}`;
