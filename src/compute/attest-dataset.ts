/**
 * The data node's attestation of a dataset it holds: it hashes the file the
 * node would analyse or serve (`DIR/<last path segment of the distribution
 * URL>`, as for `tds node` and `tds gateway`) and, only when digest and size
 * equal the published distribution, tells the service. From then on the
 * dataset counts as a contribution for reciprocity (POST
 * /v1/datasets/:id/attestations), on the provider's word, on record in the ledger.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TdsClient } from '../client/tds-client.js';
import { fileNameOfUrl, sha256File } from './run-analysis.js';

/** What was attested, or why not (nothing was sent then). */
export type AttestOutcome =
  | { attested: true; file: string; sha256: string; byteSize: number; attestedAt: string }
  | { attested: false; file: string | null; problem: string };

/** Hash the node's copy of `datasetId` in `dir` and attest it when it is the published file. */
export async function attestDatasetFile(client: TdsClient, datasetId: string, dir: string): Promise<AttestOutcome> {
  const d = await client.getJson<{ distribution: { url: string; sha256: string; byteSize: number } }>(`/v1/datasets/${encodeURIComponent(datasetId)}`);
  const name = fileNameOfUrl(d.distribution.url);
  if (!name) return { attested: false, file: null, problem: `the distribution URL ${d.distribution.url} does not end in a plain file name` };
  const file = path.join(dir, name);
  let byteSize: number;
  try {
    byteSize = fs.statSync(file).size;
  } catch {
    return { attested: false, file, problem: `${file} does not exist: the node holds no copy of this dataset` };
  }
  const sha256 = await sha256File(file);
  if (sha256 !== d.distribution.sha256 || byteSize !== d.distribution.byteSize) {
    return { attested: false, file, problem: `${file} (sha256 ${sha256}, ${byteSize} bytes) is not the published distribution (sha256 ${d.distribution.sha256}, ${d.distribution.byteSize} bytes)` };
  }
  const res = await client.attestDataset(datasetId, { sha256, byteSize });
  return { attested: true, file, sha256, byteSize, attestedAt: res.attestedAt };
}
