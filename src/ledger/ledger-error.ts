/**
 * The coded error of the pure ledger core (merkle.ts, checkpoint.ts, chain.ts,
 * note.ts, cosignature.ts, tlog-proof.ts, monitor.ts, verify-log.ts). Like jose's JOSEError, a verification failure carries a
 * stable `code` callers and tests branch on, and a message for people; the
 * message may be reworded, the code may not. Argument errors of the caller's
 * own making (a negative size, a range the wrong way round) stay RangeError.
 * These are not API error codes: the ledger service turns what an API caller
 * can cause into DomainError, and the auditor's CLI prints the message.
 */

/** Every code the ledger core can fail with. */
export type LedgerErrorCode =
  // signed notes and checkpoints (checkpoint.ts)
  | 'LEDGER_MALFORMED_NOTE'
  | 'LEDGER_MALFORMED_CHECKPOINT'
  | 'LEDGER_MALFORMED_VERIFIER_KEY'
  | 'LEDGER_INVALID_NAME'
  | 'LEDGER_BAD_SIGNATURE'
  | 'LEDGER_NOT_SIGNED'
  | 'LEDGER_ORIGIN_MISMATCH'
  // witness cosignatures (cosignature.ts)
  | 'LEDGER_MALFORMED_COSIGNATURE'
  | 'LEDGER_QUORUM_UNMET'
  // hashes and proofs (merkle.ts)
  | 'LEDGER_BAD_HASH'
  | 'LEDGER_BAD_PROOF'
  // receipts, c2sp.org/tlog-proof (tlog-proof.ts)
  | 'LEDGER_MALFORMED_PROOF'
  | 'LEDGER_MALFORMED_RECEIPT'
  | 'LEDGER_RECEIPT_MISMATCH'
  | 'LEDGER_RECEIPT_NOT_RELEASE'
  // a party's served entries (monitor.ts)
  | 'LEDGER_MALFORMED_ENTRY'
  | 'LEDGER_NOT_PARTY_ENTRY'
  // a whole log (verify-log.ts)
  | 'LEDGER_BAD_PREVIOUS_CHECKPOINT'
  | 'LEDGER_ROLLED_BACK'
  | 'LEDGER_ENTRY_MISSING'
  | 'LEDGER_ENTRY_REORDERED'
  | 'LEDGER_ENTRY_INSERTED'
  | 'LEDGER_ENTRY_CHANGED'
  | 'LEDGER_CHAIN_MISMATCH'
  | 'LEDGER_HISTORY_REWRITTEN'
  | 'LEDGER_ROOT_MISMATCH'
  | 'LEDGER_INCONSISTENT';

/** A ledger-core failure: a stable code plus a message saying what was wrong. */
export class LedgerError extends Error {
  constructor(
    readonly code: LedgerErrorCode,
    message: string,
    options?: ErrorOptions,
  ) {
    super(message, options);
    this.name = 'LedgerError';
  }
}

/** True when e is a LedgerError (with this code, when given). */
export function isLedgerError(e: unknown, code?: LedgerErrorCode): e is LedgerError {
  return e instanceof LedgerError && (code === undefined || e.code === code);
}
