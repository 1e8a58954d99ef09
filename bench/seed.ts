/**
 * Seeding over the real API, the way participants would: self-registration,
 * operator approval, datasets, offers, proposals and both signatures. Many
 * contracts rather than one, so the load spreads over many counter rows the
 * way real traffic does instead of queueing on one row lock.
 */
import { generateKeyPair, privateJwkOf, secretKeyFromJwk, sign, thumbprintOf } from '../src/crypto/ed25519.js';
import { toBase64Url, utf8 } from '../src/crypto/sha256.js';
import type { Signer } from '../src/client/request-token.js';
import { TokenSigner, expectCall } from './client.js';

/** The purpose every benchmark job asks for (and every contract allows). */
export const BENCH_PURPOSE = 'DUO:0000006';

/** A contract the load can run jobs on, with its consumer's signer. */
export interface SeededContract {
  contractId: string;
  consumer: TokenSigner;
}

/** Everything seeded: who, and which contracts. */
export interface Seeded {
  operator: TokenSigner;
  providers: TokenSigner[];
  consumers: TokenSigner[];
  contracts: SeededContract[];
}

/** Register and approve a participant over HTTP. */
async function newParticipant(base: string, operator: TokenSigner, roles: string[], name: string): Promise<TokenSigner> {
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  const kid = await thumbprintOf(privateJwk);
  const self = new TokenSigner({ iss: kid, kid, privateJwk });
  const reg = await expectCall(base, self, 'POST', '/v1/participants', 201, { name, roles, publicKeyJwk: { kty: 'OKP', crv: 'Ed25519', x: privateJwk.x } });
  const id = reg.id as string;
  await expectCall(base, operator, 'POST', `/v1/participants/${id}/approve`, 200);
  return new TokenSigner({ iss: id, kid, privateJwk });
}

/** Publish a dataset and offer, propose and sign a contract; returns the contract id. */
async function newContract(base: string, provider: TokenSigner, consumer: TokenSigner, maxInvocations: number, n: number, researchField = 'oncology'): Promise<string> {
  const d = await expectCall(base, provider, 'POST', '/v1/datasets', 201, {
    title: `Benchmark cohort ${n}`, description: 'synthetic', researchField, kind: 'raw',
    distribution: { url: `https://data.hospital.example/bench-${n}.csv`, sha256: 'a'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
  });
  const o = await expectCall(base, provider, 'POST', `/v1/datasets/${d.id as string}/offers`, 201, { purposes: [BENCH_PURPOSE], maxInvocations, access: 'download' });
  const c = await expectCall(base, consumer, 'POST', '/v1/contracts', 201, { offerId: o.id, purposes: [BENCH_PURPOSE], maxInvocations });
  for (const s of [consumer, provider]) {
    const signer: Signer = s.signer;
    const signature = toBase64Url(sign(utf8(c.canonical as string), secretKeyFromJwk(signer.privateJwk)));
    await expectCall(base, s, 'POST', `/v1/contracts/${c.id as string}/signatures`, 200, { kid: signer.kid, signature });
  }
  return c.id as string;
}

/** Runs tasks with at most `limit` in flight: seeding is many small calls, parallel but not a stampede. */
async function pool<T>(limit: number, tasks: Array<() => Promise<T>>): Promise<T[]> {
  const out: T[] = new Array(tasks.length);
  let next = 0;
  await Promise.all(Array.from({ length: Math.min(limit, tasks.length) }, async () => {
    while (next < tasks.length) {
      const i = next++;
      out[i] = await tasks[i]();
    }
  }));
  return out;
}

/**
 * Seeds `providers` providers, `consumers` consumers and `contracts` contracts
 * (round-robin over both), each allowing far more invocations than any run uses.
 */
export async function seed(base: string, operatorSigner: Signer, opts: { providers: number; consumers: number; contracts: number }): Promise<Seeded> {
  const operator = new TokenSigner(operatorSigner);
  const providers = await pool(4, Array.from({ length: opts.providers }, (_, i) => () => newParticipant(base, operator, ['provider'], `bench provider ${i}`)));
  const consumers = await pool(4, Array.from({ length: opts.consumers }, (_, i) => () => newParticipant(base, operator, ['consumer'], `bench consumer ${i}`)));
  const contracts = await pool(4, Array.from({ length: opts.contracts }, (_, i) => async () => {
    const consumer = consumers[i % consumers.length];
    const contractId = await newContract(base, providers[i % providers.length], consumer, 1_000_000_000, i);
    return { contractId, consumer };
  }));
  return { operator, providers, consumers, contracts };
}

/** The research field whose raw datasets the reciprocity rules govern (the plain contracts are in oncology, which no rule covers). */
export const RULES_FIELD = 'genomics';

/**
 * The same shape for the run with reciprocity rules: the operator sets two
 * space rules on raw genomics datasets, minimum-contribution (1 shared
 * dataset) and give-to-get (ratio 1 plus an allowance far above any run),
 * `consumers` consumers that are also providers each share a genomics
 * dataset of their own (so they satisfy minimum-contribution), and
 * `contracts` contracts on the providers' genomics datasets. Every job on
 * them takes the rules path (advisory locks, facts, evaluation) and passes.
 */
export async function seedRules(base: string, operator: TokenSigner, providers: TokenSigner[], opts: { consumers: number; contracts: number }): Promise<SeededContract[]> {
  await expectCall(base, operator, 'POST', '/v1/reciprocity-rules', 201, { kind: 'minimum-contribution', researchField: RULES_FIELD, datasetKind: 'raw', minCount: 1, description: 'bench: share one to receive' });
  await expectCall(base, operator, 'POST', '/v1/reciprocity-rules', 201, { kind: 'give-to-get', researchField: RULES_FIELD, datasetKind: 'raw', ratio: 1, allowance: 1_000_000, description: 'bench: give to get' });
  const consumers = await pool(4, Array.from({ length: opts.consumers }, (_, i) => async () => {
    const c = await newParticipant(base, operator, ['consumer', 'provider'], `bench sharing consumer ${i}`);
    const d = await expectCall(base, c, 'POST', '/v1/datasets', 201, {
      title: `Shared cohort ${i}`, description: 'synthetic', researchField: RULES_FIELD, kind: 'raw',
      distribution: { url: `https://data.consumer.example/shared-${i}.csv`, sha256: 'b'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
    });
    await expectCall(base, c, 'POST', `/v1/datasets/${d.id as string}/offers`, 201, { purposes: [BENCH_PURPOSE], maxInvocations: 10, access: 'download' });
    // A contribution counts once shown real: the sharer attests its dataset as its data node would.
    await expectCall(base, c, 'POST', `/v1/datasets/${d.id as string}/attestations`, 201, { sha256: 'b'.repeat(64), byteSize: 10 });
    return c;
  }));
  return pool(4, Array.from({ length: opts.contracts }, (_, i) => async () => {
    const consumer = consumers[i % consumers.length];
    const contractId = await newContract(base, providers[i % providers.length], consumer, 1_000_000_000, 1000 + i, RULES_FIELD);
    return { contractId, consumer };
  }));
}
