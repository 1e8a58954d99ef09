/** HTTP routes of the ledger: checkpoint, verifier key, proofs and the caller's own entries for every active participant; all entries for auditors and the operator. */
import type { Router, Response } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { requireRole } from '../principal.js';
import type { LedgerService } from './ledger.service.js';
import type { ReceiptService } from './receipt.service.js';
import { pathId } from '../http/params.js';

// Reading the ledger reveals every event of the space: only those who audit it.
function requireAuditor(res: Response): void {
  requireRole(principalOf(res), 'auditor', 'operator');
}

/**
 * The /ledger routes, mounted under /v1 after authentication (so only active
 * participants reach them). Checkpoint, key and proofs reveal hashes only, so
 * every party may check what concerns it; entries stay with auditors. Query strings
 * are validated against their schemas; the service refuses ranges the tree
 * does not have (VALIDATION_FAILED). Text answers are exactly what standard
 * tooling parses: the signed note and the verifier key.
 */
export function ledgerRoutes(r: Router, svc: LedgerService, schemas: SchemaRegistry, receipts: ReceiptService): void {
  r.get('/ledger/checkpoint', async (_req, res) => {
    const cp = await svc.latestCheckpoint();
    // A checkpoint is superseded within a second: caches must not serve an old one.
    res.set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(cp.note);
  });
  r.get('/ledger/key', (_req, res) => {
    // Exactly the key, no newline: it is pasted into configs and compared byte for byte.
    res.type('text/plain; charset=utf-8').send(svc.verifierKey());
  });
  r.get('/ledger/entries', async (req, res) => {
    requireAuditor(res);
    const q = schemas.checkQuery<{ start: number; limit: number }>('ledger-entries-query.v1', req.query);
    res.json(await svc.entries(q.start, q.limit));
  });
  r.get('/ledger/mine', async (req, res) => {
    const q = schemas.checkQuery<{ start: number; limit: number }>('ledger-mine-query.v1', req.query);
    res.set('Cache-Control', 'no-store').json(await svc.entriesOfParty(principalOf(res).participantId, q.start, q.limit));
  });
  r.get('/jobs/:id/receipt', async (req, res) => {
    const text = await receipts.receipt(principalOf(res), pathId(req, 'job'));
    // A .tlog-proof file (c2sp.org/tlog-proof@v1): plain text, kept by the parties as evidence.
    res.set('Cache-Control', 'no-store').type('text/plain; charset=utf-8').send(text);
  });
  r.get('/ledger/proofs/inclusion', async (req, res) => {
    const q = schemas.checkQuery<{ index: number; treeSize?: number }>('inclusion-proof-query.v1', req.query);
    res.json(await svc.inclusionProof(q.index, q.treeSize));
  });
  r.get('/ledger/proofs/consistency', async (req, res) => {
    const q = schemas.checkQuery<{ from: number; to?: number }>('consistency-proof-query.v1', req.query);
    res.json(await svc.consistencyProof(q.from, q.to));
  });
}
