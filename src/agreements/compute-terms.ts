/**
 * The checks a compute offer must pass before it is stored: its dataset
 * declares its columns (an analysis can only be checked against declared
 * columns), and its review terms can be met (every named reviewer is a
 * participant holding the role `reviewer`, and no more approvals are asked
 * than there are reviewers, or no result could ever be released).
 */
import type { EntityManager } from 'typeorm';
import { invalidField, validationFailed } from '../errors.js';
import type { DatasetEntity } from '../datasets/dataset.entity.js';
import type { OutputPolicy } from './output-policy.js';
import type { DatasetV1Column } from '../generated/contracts.js';

/** A declared column of a dataset (dataset.v1 `$defs/column`, generated). */
export type DatasetColumn = DatasetV1Column;

/** The declared columns of a dataset's `schema`, or null when it declares none. */
export function declaredColumns(schema: unknown): DatasetColumn[] | null {
  const cols = (schema as { columns?: unknown } | null)?.columns;
  return Array.isArray(cols) && cols.length > 0 ? (cols as DatasetColumn[]) : null;
}

/** Throw VALIDATION_FAILED (with a pointer) unless a compute offer on this dataset with this policy can work. */
export async function checkComputeTerms(tx: EntityManager, dataset: DatasetEntity, policy: OutputPolicy, accessDefaulted: boolean): Promise<void> {
  if (!declaredColumns(dataset.schema)) {
    const why = accessDefaulted ? ' (raw datasets are offered for compute unless the offer says access "download")' : '';
    throw invalidField(accessDefaulted ? '/' : '/access', 'the dataset declares no schema.columns', `a compute offer needs a dataset that declares schema.columns${why}`);
  }
  const { approvals, reviewers } = policy.review;
  if (approvals > reviewers.length) {
    throw invalidField('/outputPolicy/review/approvals', 'more than the number of reviewers', `review needs ${approvals} approvals but names ${reviewers.length} reviewer(s)`);
  }
  if (reviewers.length === 0) return;
  const found = (await tx.query(`SELECT id::text FROM participants WHERE id = ANY($1::uuid[]) AND 'reviewer' = ANY(roles)`, [reviewers])) as Array<{ id: string }>;
  const ok = new Set(found.map((r) => r.id));
  const bad = reviewers.map((r, i) => ({ r, i })).filter(({ r }) => !ok.has(r));
  if (bad.length > 0) {
    throw validationFailed(`not participants with the role reviewer: ${bad.map((b) => b.r).join(', ')}`,
      bad.map((b) => ({ pointer: `/outputPolicy/review/reviewers/${b.i}`, message: 'not a participant with the role reviewer' })));
  }
}
