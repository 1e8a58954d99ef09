/**
 * Scenario factories on top of the real API: datasets, offers, rules and
 * contracts signed by both parties with their real keys.
 */
import { randomBytes } from 'node:crypto';
import { secretKeyFromJwk, sign } from '../../src/crypto/ed25519.js';
import { toBase64Url, utf8, sha256, toHex } from '../../src/crypto/sha256.js';
import type { TestContext } from './context.js';
import { signed, type Actor } from './actors.js';

/** A valid dataset body; overrides are merged in. */
export function datasetBody(overrides: Record<string, unknown> = {}): Record<string, unknown> {
  const bytes = randomBytes(64);
  return {
    title: 'Cardiology cohort 2024',
    description: 'De-identified ECG features',
    researchField: 'cardiology',
    kind: 'raw',
    distribution: { url: 'https://data.hospital.example/cohort.parquet', sha256: toHex(sha256(bytes)), byteSize: bytes.length, mediaType: 'application/vnd.apache.parquet' },
    ...overrides,
  };
}

/** Publish a dataset as `provider`; returns its id. */
export async function publishDataset(ctx: TestContext, provider: Actor, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await signed(ctx.app, provider, 'post', '/v1/datasets', datasetBody(overrides));
  if (res.status !== 201) throw new Error(`publish failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Publish an offer (access download unless overridden: raw datasets default to compute); returns its id. */
export async function makeOffer(ctx: TestContext, provider: Actor, datasetId: string, overrides: Record<string, unknown> = {}): Promise<string> {
  const res = await signed(ctx.app, provider, 'post', `/v1/datasets/${datasetId}/offers`, { purposes: ['DUO:0000006'], maxInvocations: 100, access: 'download', ...overrides });
  if (res.status !== 201) throw new Error(`offer failed: ${res.status} ${JSON.stringify(res.body)}`);
  return res.body.id as string;
}

/** Sign a canonical string with an actor's key (base64url). */
export function signCanonical(actor: Actor, canonical: string): string {
  return toBase64Url(sign(utf8(canonical), secretKeyFromJwk(actor.privateJwk)));
}

/** Propose and have both parties sign; returns the contract id. */
export async function activeContract(
  ctx: TestContext,
  provider: Actor,
  consumer: Actor,
  opts: { datasetId?: string; offerId?: string; purposes?: string[]; maxInvocations?: number; offer?: Record<string, unknown> } = {},
): Promise<string> {
  const datasetId = opts.datasetId ?? (await publishDataset(ctx, provider));
  const offerId = opts.offerId ?? (await makeOffer(ctx, provider, datasetId, opts.offer));
  const proposed = await signed(ctx.app, consumer, 'post', '/v1/contracts', { offerId, purposes: opts.purposes ?? ['DUO:0000006'], maxInvocations: opts.maxInvocations ?? 10 });
  if (proposed.status !== 201) throw new Error(`proposal failed: ${proposed.status} ${JSON.stringify(proposed.body)}`);
  const { id, canonical } = proposed.body as { id: string; canonical: string };
  for (const party of [consumer, provider]) {
    const res = await signed(ctx.app, party, 'post', `/v1/contracts/${id}/signatures`, { kid: party.kid, signature: signCanonical(party, canonical) });
    if (res.status !== 200) throw new Error(`signature failed: ${res.status} ${JSON.stringify(res.body)}`);
  }
  return id;
}

/**
 * The dataset's provider attests, as its data node would after hashing its
 * file, that it holds the published bytes: from then on the dataset counts as
 * a contribution for reciprocity.
 */
export async function attestDataset(ctx: TestContext, provider: Actor, datasetId: string): Promise<void> {
  const d = await signed(ctx.app, provider, 'get', `/v1/datasets/${datasetId}`);
  const { sha256, byteSize } = d.body.distribution as { sha256: string; byteSize: number };
  const res = await signed(ctx.app, provider, 'post', `/v1/datasets/${datasetId}/attestations`, { sha256, byteSize });
  if (res.status !== 201) throw new Error(`attestation failed: ${res.status} ${JSON.stringify(res.body)}`);
}
