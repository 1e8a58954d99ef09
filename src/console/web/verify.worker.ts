/**
 * The full ledger verification, off the page's main thread: entries arrive in
 * chunks while the page fetches them, then src/ledger/verify-log.ts (the code
 * `tds verify` runs) recomputes every leaf, the chain and the Merkle root and
 * checks the signed checkpoint, reporting progress as it goes.
 */
import { isLedgerError } from '../../ledger/ledger-error.js';
import { verifyLog, type ServedEntry, type VerifiedCheckpoint, type VerifyLogResult } from '../../ledger/verify-log.js';

/** Messages the page sends. */
export type ToWorker =
  | { type: 'entries'; entries: ServedEntry[] }
  | { type: 'verify'; checkpointNote: string; verifierKey: string; previous?: VerifiedCheckpoint; consistencyProof?: string[] };

/** Messages the worker answers with. */
export type FromWorker =
  | { type: 'progress'; checked: number; total: number }
  | { type: 'result'; result: VerifyLogResult; millis: number; entries: number };

const ctx = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
let entries: ServedEntry[] = [];

ctx.onmessage = (e) => {
  const m = e.data;
  if (m.type === 'entries') {
    for (const x of m.entries) entries.push(x);
    return;
  }
  const started = performance.now();
  let result: VerifyLogResult;
  try {
    result = verifyLog({
      entries,
      checkpointNote: m.checkpointNote,
      verifierKey: m.verifierKey,
      previous: m.previous,
      consistencyProof: m.consistencyProof,
      onProgress: (checked, total) => ctx.postMessage({ type: 'progress', checked, total }),
    });
  } catch (err) {
    result = { ok: false, code: isLedgerError(err) ? err.code : 'LEDGER_INCONSISTENT', firstBadIndex: null, problem: `verification stopped: ${(err as Error).message}` };
  }
  const millis = performance.now() - started;
  ctx.postMessage({ type: 'result', result, millis, entries: entries.length });
  entries = [];
};
