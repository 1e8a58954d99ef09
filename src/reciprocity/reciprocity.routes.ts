/** HTTP routes of reciprocity rules and standing. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { requireRole } from '../principal.js';
import type { ReciprocityService, RuleInput } from './reciprocity.service.js';

/** Adds its routes to the /v1 router (after authentication). */
export function reciprocityRoutes(r: Router, svc: ReciprocityService, schemas: SchemaRegistry): void {
  r.post('/reciprocity-rules', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'operator', 'provider');
    const body = schemas.check<RuleInput>('reciprocity-rule.v1', req.body);
    const rule = await svc.create(p, body);
    res.status(201).location(`/v1/reciprocity-rules/${rule.id}`).json(rule);
  });
  r.get('/reciprocity-rules', async (req, res) => {
    principalOf(res);
    res.json(await svc.page(schemas.checkQuery('rule-query.v1', req.query)));
  });
  r.get('/reciprocity/standing', async (req, res) => {
    const q = schemas.checkQuery<{ field?: string; kind?: 'raw' | 'insight'; contractId?: string }>('standing-query.v1', req.query);
    res.json(await svc.standing(principalOf(res), q));
  });
}
