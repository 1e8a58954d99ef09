/**
 * Receipts: a job's release (its `job.authorized` ledger entry) as a
 * self-contained C2SP tlog-proof that its parties keep and check offline, with
 * the entry's bytes in `extra` and the served checkpoint (log signature and
 * witness cosignatures) at the end. Who may have one is read from the entry
 * itself (its consumer and provider subjects), plus the operator and auditors.
 */
import type { DataSource } from 'typeorm';
import type { Principal } from '../principal.js';
import { conflict, forbidden, notFound } from '../errors.js';
import { fromBase64, utf8 } from '../crypto/sha256.js';
import { readAuthorization } from './ledger-store.js';
import { formatTlogProof } from './tlog-proof.js';
import type { LedgerService } from './ledger.service.js';

// How long a request waits for a fresh release to be integrated and covered by a served checkpoint.
const WAIT_MS = 3000;
const POLL_MS = 100;

const mayRead = (p: Principal, subjects: Record<string, string>): boolean =>
  subjects.consumer === p.participantId || subjects.provider === p.participantId || p.roles.includes('operator') || p.roles.includes('auditor');

/** Builds receipts from the ledger. */
export class ReceiptService {
  constructor(
    private readonly ds: DataSource,
    private readonly ledger: LedgerService,
  ) {}

  /**
   * The tlog-proof text of a job's release. NOT_FOUND when no release of
   * that job is recorded, FORBIDDEN for anyone but its parties, the operator
   * and auditors, RECEIPT_PENDING when the entry is not yet under a served
   * checkpoint after a short wait (a retry a second later succeeds).
   */
  async receipt(actor: Principal, jobId: string): Promise<string> {
    const deadline = Date.now() + WAIT_MS;
    for (;;) {
      const found = await readAuthorization(this.ds, jobId);
      if (found === null) throw notFound('job release', jobId);
      if (!mayRead(actor, 'queued' in found ? found.queued : found.subjects)) throw forbidden('only the job\'s parties, the operator and auditors may have its receipt');
      if (!('queued' in found)) {
        const cp = await this.ledger.latestCheckpoint();
        if (cp.size > found.index) {
          const { proof } = await this.ledger.inclusionProof(found.index, cp.size);
          return formatTlogProof({ extra: utf8(found.text), index: found.index, proof: proof.map(fromBase64), checkpoint: cp.note });
        }
      }
      if (Date.now() > deadline) throw conflict('RECEIPT_PENDING', 'the release is not yet covered by a served checkpoint; retry in a second');
      await new Promise((r) => setTimeout(r, POLL_MS));
    }
  }
}
