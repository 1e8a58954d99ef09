/**
 * The full ledger verification, off the page's main thread: entries arrive in
 * chunks while the page fetches them, then src/ledger/verify-log.ts (the code
 * `tds verify` runs) recomputes every leaf, the chain and the Merkle root and
 * checks the signed checkpoint, reporting progress as it goes. When the
 * entries disagree with the checkpoint, src/ledger/locate-bad-entry.ts names
 * the first altered entry with inclusion proofs, which the worker asks the
 * page for (the page holds the key that signs requests).
 */
import { isLedgerError } from '../../ledger/ledger-error.js';
import type { ServedEntry, VerifiedCheckpoint, VerifyLogResult } from '../../ledger/verify-log.js';
import { verifyLogLocating } from '../../ledger/locate-bad-entry.js';

/** Messages the page sends. */
export type ToWorker =
  | { type: 'entries'; entries: ServedEntry[] }
  | { type: 'verify'; checkpointNote: string; verifierKey: string; previous?: VerifiedCheckpoint; consistencyProof?: string[] }
  | { type: 'proof'; id: number; answer?: { leafHash: string; proof: string[] }; error?: string };

/** Messages the worker answers with. */
export type FromWorker =
  | { type: 'progress'; checked: number; total: number }
  | { type: 'proof'; id: number; index: number; treeSize: number }
  | { type: 'result'; result: VerifyLogResult; millis: number; entries: number };

const ctx = self as unknown as { postMessage(m: FromWorker): void; onmessage: ((e: MessageEvent<ToWorker>) => void) | null };
let entries: ServedEntry[] = [];
const waiting = new Map<number, { resolve: (a: { leafHash: string; proof: string[] }) => void; reject: (e: Error) => void }>();
let nextId = 0;

/** An inclusion proof fetched by the page: the worker cannot sign requests. */
function proofFromPage(index: number, treeSize: number): Promise<{ leafHash: string; proof: string[] }> {
  const id = ++nextId;
  return new Promise((resolve, reject) => {
    waiting.set(id, { resolve, reject });
    ctx.postMessage({ type: 'proof', id, index, treeSize });
  });
}

ctx.onmessage = async (e) => {
  const m = e.data;
  if (m.type === 'entries') {
    for (const x of m.entries) entries.push(x);
    return;
  }
  if (m.type === 'proof') {
    const w = waiting.get(m.id);
    waiting.delete(m.id);
    if (w && m.answer) w.resolve(m.answer);
    else w?.reject(new Error(m.error ?? 'no proof'));
    return;
  }
  const started = performance.now();
  let result: VerifyLogResult;
  try {
    result = await verifyLogLocating({
      entries,
      checkpointNote: m.checkpointNote,
      verifierKey: m.verifierKey,
      previous: m.previous,
      consistencyProof: m.consistencyProof,
      onProgress: (checked, total) => ctx.postMessage({ type: 'progress', checked, total }),
    }, proofFromPage);
  } catch (err) {
    result = { ok: false, code: isLedgerError(err) ? err.code : 'LEDGER_INCONSISTENT', firstBadIndex: null, problem: `verification stopped: ${(err as Error).message}` };
  }
  const millis = performance.now() - started;
  ctx.postMessage({ type: 'result', result, millis, entries: entries.length });
  entries = [];
};
