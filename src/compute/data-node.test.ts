import { getEventListeners } from 'node:events';
import { analysisJobOf, sleep } from './data-node.js';
import { digestOf, type ClaimedJob } from '../client/compute-api.js';

const analysis = { type: 'aggregate', groupBy: ['ward'], measures: [{ fn: 'count' }] };
const sha = 'ab'.repeat(32);

function claim(over: Partial<ClaimedJob> = {}, doc: Record<string, unknown> = {}): ClaimedJob {
  return {
    id: 'job-1', state: 'running', contractId: 'c-1', analysis, analysisDigest: digestOf(analysis), leaseUntil: new Date(Date.now() + 60_000).toISOString(),
    document: { id: 'c-1', access: 'compute', provider: { id: 'hospital' }, dataset: { sha256: sha }, outputPolicy: { minCellCount: 20 }, ...doc },
    dataset: { id: 'd-1', distribution: { url: 'https://data.hospital.example/files/adm%20issions.csv', sha256: 'cd'.repeat(32), mediaType: 'text/csv' }, schema: { columns: [{ name: 'ward', type: 'string' }] } },
    ...over,
  };
}

describe('what the node accepts from a claim', () => {
  test('the signed document gives the digest and policy, the URL the file name', () => {
    const job = analysisJobOf(claim(), 'hospital');
    expect(job.datasetSha256).toBe(sha);
    expect(job.fileName).toBe('adm issions.csv');
    expect(job.policy.minCellCount).toBe(20);
    expect(job.policy.roundTo).toBe(5);
    expect(job.schema).toEqual([{ name: 'ward', type: 'string' }]);
    expect(job.bindingError).toBeUndefined();
  });

  test('an analysis that does not hash to its digest is marked, not run', () => {
    expect(analysisJobOf(claim({ analysisDigest: '0'.repeat(64) }), 'hospital').bindingError).toBe('ANALYSIS_INVALID');
  });

  test('claims of another provider, another contract, a download contract or without a usable URL are refused', () => {
    expect(() => analysisJobOf(claim({}, { provider: { id: 'other' } }), 'hospital')).toThrow(/another provider/);
    expect(() => analysisJobOf(claim({}, { id: 'c-2' }), 'hospital')).toThrow(/contract/);
    expect(() => analysisJobOf(claim({}, { access: 'download' }), 'hospital')).toThrow(/compute/);
    expect(() => analysisJobOf(claim({ dataset: { id: 'd', distribution: { url: 'https://x.example/files/..', sha256: sha } } }), 'hospital')).toThrow(/URL/);
    expect(() => analysisJobOf(claim({}, { dataset: { sha256: 'nope' } }), 'hospital')).toThrow(/digest/);
  });
});

describe('the poll wait', () => {
  test('leaves no abort listener behind, however many waits end by time', async () => {
    const stop = new AbortController();
    for (let i = 0; i < 20; i++) await sleep(1, stop.signal);
    expect(getEventListeners(stop.signal, 'abort')).toHaveLength(0);
  });

  test('ends at once when stopped, and not before', async () => {
    const stop = new AbortController();
    let done = false;
    const waiting = sleep(60_000, stop.signal).then(() => (done = true));
    await new Promise((r) => setImmediate(r));
    expect(done).toBe(false);
    stop.abort();
    await waiting;
    expect(done).toBe(true);
    await sleep(60_000, stop.signal); // already stopped: returns at once
  });
});
