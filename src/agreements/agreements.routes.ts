/** HTTP routes of offers and contracts. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { pathId } from '../http/params.js';
import { requireRole } from '../principal.js';
import type { OfferInput, OffersService } from './offers.service.js';
import type { ContractQuery, ContractsService, ProposalInput } from './contracts.service.js';

/** Adds its routes to the /v1 router (after authentication). */
export function agreementRoutes(r: Router, offers: OffersService, contracts: ContractsService, schemas: SchemaRegistry): void {
  r.post('/datasets/:id/offers', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'provider', 'consumer');
    const body = schemas.check<OfferInput>('offer.v1', req.body);
    const o = await offers.create(p, pathId(req, 'dataset'), body);
    res.status(201).location(`/v1/offers/${o.id}`).json(o);
  });
  r.get('/datasets/:id/offers', async (req, res) => {
    principalOf(res);
    res.json({ items: await offers.forDataset(pathId(req, 'dataset')) });
  });
  r.get('/offers/:id', async (req, res) => {
    principalOf(res);
    res.json(await offers.get(pathId(req, 'offer')));
  });
  r.post('/contracts', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'consumer');
    const body = schemas.check<ProposalInput>('contract-proposal.v1', req.body);
    const c = await contracts.propose(p, body);
    res.status(201).location(`/v1/contracts/${c.id}`).json(c);
  });
  r.post('/contracts/:id/signatures', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<{ kid: string; signature: string }>('signature.v1', req.body);
    res.json(await contracts.sign(p, pathId(req, 'contract'), body));
  });
  r.get('/contracts', async (req, res) => {
    const p = principalOf(res);
    res.json(await contracts.list(p, schemas.checkQuery<ContractQuery>('contract-query.v1', req.query)));
  });
  r.get('/contracts/:id', async (req, res) => {
    res.json(await contracts.get(principalOf(res), pathId(req, 'contract')));
  });
  r.post('/contracts/:id/revoke', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'provider', 'operator');
    const body = schemas.check<{ reason: string }>('revocation.v1', req.body);
    res.json(await contracts.revoke(p, pathId(req, 'contract'), body.reason));
  });
}
