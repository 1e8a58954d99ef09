/** HTTP routes of statements and the operator's settlement view. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { pathId } from '../http/params.js';
import type { SettlementsService, StatementRequest, StatementsService } from './statements.service.js';

/** Adds its routes to the /v1 router (after authentication). */
export function statementRoutes(r: Router, statements: StatementsService, settlements: SettlementsService, schemas: SchemaRegistry): void {
  r.post('/statements', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<StatementRequest>('statement-request.v1', req.body);
    const s = await statements.issue(p, body);
    res.status(201).location(`/v1/statements/${s.statement.id}`).json(s);
  });
  r.get('/statements/:id', async (req, res) => {
    res.json(await statements.get(principalOf(res), pathId(req, 'statement')));
  });
  r.get('/settlements', async (req, res) => {
    const p = principalOf(res);
    const q = schemas.checkQuery<{ from: string; to: string }>('settlement-query.v1', req.query);
    res.set('Cache-Control', 'no-store').json(await settlements.settle(p, q));
  });
}
