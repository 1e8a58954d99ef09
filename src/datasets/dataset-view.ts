/**
 * A dataset as the API shows it (GET /v1/datasets, GET /v1/datasets/:id):
 * one declaration for the service, which builds it (`datasetView` in
 * datasets.service.ts), and the programs and the console, which read it.
 * The parts a provider publishes are the generated dataset.v1 types. Types only.
 */
import type { DatasetV1 } from '../generated/contracts.js';

/** A dataset as the API shows it. */
export interface DatasetView {
  id: string;
  providerId: string;
  title: string;
  description: string;
  researchField: string;
  kind: DatasetV1['kind'];
  distribution: DatasetV1['distribution'];
  license: string | null;
  schema: NonNullable<DatasetV1['schema']> | null;
  status: 'published' | 'withdrawn';
  publishedAt: string;
  withdrawnAt: string | null;
}
