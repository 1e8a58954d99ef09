/**
 * The code of the LedgerError a call throws, for tests of the pure ledger
 * core: they assert codes (src/ledger/ledger-error.ts), never message text.
 */
import { LedgerError } from '../../src/ledger/ledger-error.js';

/** The code of the LedgerError fn throws, else a string saying what happened instead. */
export function ledgerCode(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    return e instanceof LedgerError ? e.code : `not a LedgerError: ${String(e)}`;
  }
  return 'nothing thrown';
}
