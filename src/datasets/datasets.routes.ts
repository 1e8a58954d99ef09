/** HTTP routes of the dataset catalog. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { pathId } from '../http/params.js';
import { requireRole } from '../principal.js';
import { invalidField } from '../errors.js';
import { badDisplayText } from '../input-text.js';
import type { DatasetInput, DatasetQuery, DatasetsService } from './datasets.service.js';
import type { DatasetAttestationV1 } from '../generated/contracts.js';

// The title is shown to people and signed into every contract on the dataset: no bidi overrides or
// invisible characters that would make it read as something else.
function checkTitle(body: DatasetInput): void {
  const why = badDisplayText(body.title);
  if (why) throw invalidField('/title', why, `title ${why}`);
}

/** Adds its routes to the /v1 router (after authentication). */
export function datasetRoutes(r: Router, svc: DatasetsService, schemas: SchemaRegistry): void {
  r.post('/datasets', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'provider', 'consumer');
    const body = schemas.check<DatasetInput>('dataset.v1', req.body);
    // Consumers publish insight datasets; raw data comes from providers.
    if (body.kind === 'raw') requireRole(p, 'provider');
    checkTitle(body);
    const d = await svc.publish(p, body);
    res.status(201).location(`/v1/datasets/${d.id}`).json(d);
  });
  r.get('/datasets', async (req, res) => {
    principalOf(res);
    res.json(await svc.list(schemas.checkQuery<DatasetQuery>('dataset-query.v1', req.query)));
  });
  r.get('/datasets/:id', async (req, res) => {
    principalOf(res);
    res.json(await svc.get(pathId(req, 'dataset')));
  });
  r.post('/datasets/:id/withdraw', async (req, res) => {
    const p = principalOf(res);
    schemas.check('empty-body.v1', req.body ?? {});
    res.json(await svc.withdraw(p, pathId(req, 'dataset')));
  });
  r.post('/datasets/:id/attestations', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<DatasetAttestationV1>('dataset-attestation.v1', req.body);
    res.status(201).json(await svc.attest(p, pathId(req, 'dataset'), body));
  });
}
