/** HTTP routes of compute jobs after submission: list, claim, result, reviews. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { principalOf } from '../http/auth.js';
import { pathId } from '../http/params.js';
import type { ComputeJobsService, JobQuery } from './compute-jobs.service.js';
import type { ResultSubmissionV1 } from '../generated/contracts.js';
import type { ReviewInput, ReviewsService } from './reviews.service.js';

/** Adds its routes to the /v1 router (after authentication), before jobRoutes. */
export function computeRoutes(r: Router, svc: ComputeJobsService, reviews: ReviewsService, schemas: SchemaRegistry): void {
  r.get('/jobs', async (req, res) => {
    const p = principalOf(res);
    res.json(await svc.list(p, schemas.checkQuery<JobQuery>('job-query.v1', req.query)));
  });
  r.post('/jobs/:id/claim', async (req, res) => {
    const p = principalOf(res);
    schemas.check('empty-body.v1', req.body ?? {});
    res.json(await svc.claim(p, pathId(req, 'job')));
  });
  r.post('/jobs/:id/result', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<ResultSubmissionV1>('result-submission.v1', req.body);
    res.json(await svc.submitResult(p, pathId(req, 'job'), body));
  });
  r.get('/jobs/:id/result', async (req, res) => {
    res.json(await svc.getResult(principalOf(res), pathId(req, 'job')));
  });
  r.post('/jobs/:id/reviews', async (req, res) => {
    const p = principalOf(res);
    const body = schemas.check<ReviewInput>('review.v1', req.body);
    res.status(201).json(await reviews.review(p, pathId(req, 'job'), body));
  });
}
