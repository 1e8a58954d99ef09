/**
 * GET /v1/jobs/:id/receipt: a c2sp.org/tlog-proof@v1 of the job's release
 * that verifies offline with the log key alone (and with witnesses when they
 * cosigned), for the job's parties, the operator and auditors only; `tds
 * receipt verify` accepts it and refuses a true proof of any other entry.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { runTds } from '../../src/cli/tds.js';
import { fromBase64, utf8 } from '../../src/crypto/sha256.js';
import { parseVerifierKey } from '../../src/ledger/checkpoint.js';
import { canonicalEntryText, type LedgerEntry } from '../../src/ledger/ledger-entry.js';
import { formatTlogProof, parseTlogProof, verifyReceipt } from '../../src/ledger/tlog-proof.js';

let ctx: TestContext;
let hospital: Actor;
let institute: Actor;
let stranger: Actor;
let auditor: Actor;
let jobId: string;

beforeAll(async () => {
  ctx = await createTestContext({}, { background: true });
  [hospital, institute, stranger, auditor] = await Promise.all([makeParticipant(ctx, ['provider']), makeParticipant(ctx, ['consumer']), makeParticipant(ctx, ['consumer']), makeParticipant(ctx, ['auditor'])]);
  const contractId = await activeContract(ctx, hospital, institute);
  const res = await signed(ctx.app, institute, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
  expect(res.status).toBe(201);
  jobId = res.body.id;
});
afterAll(() => ctx.close());

/** `tds receipt verify FILE --log-key <the service's key>`, offline (no service URL needed). */
async function receiptVerify(text: string): Promise<{ code: number; out: string[] }> {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-receipt-'));
  try {
    const file = path.join(dir, 'r.tlog-proof');
    fs.writeFileSync(file, text);
    const out: string[] = [];
    const code = await runTds(['receipt', 'verify', file, '--log-key', ctx.services.ledger.verifierKey()], { out: (l) => void out.push(l), err: (l) => void out.push(l), isTTY: false, prompt: async () => '', env: {} });
    return { code, out };
  } finally {
    fs.rmSync(dir, { recursive: true, force: true });
  }
}

describe('GET /v1/jobs/:id/receipt', () => {
  it('gives the parties, operator and auditors a receipt that verifies offline (waiting for the sequencer if needed)', async () => {
    const logKey = parseVerifierKey(ctx.services.ledger.verifierKey());
    for (const who of [institute, hospital, auditor, ctx.operator]) {
      const res = await signed(ctx.app, who, 'get', `/v1/jobs/${jobId}/receipt`);
      expect(res.status).toBe(200);
      expect(res.headers['content-type']).toBe('text/plain; charset=utf-8');
      expect(res.text.startsWith('c2sp.org/tlog-proof@v1\nextra ')).toBe(true);
      const v = verifyReceipt(res.text, logKey, [], 0);
      expect(v.entry).toMatchObject({ kind: 'job.authorized', subjects: { job: jobId, consumer: institute.id, provider: hospital.id } });
    }
  });

  it('refuses others (403), answers 404 for unknown or malformed job ids', async () => {
    const res = await signed(ctx.app, stranger, 'get', `/v1/jobs/${jobId}/receipt`);
    expect({ status: res.status, code: res.body.code }).toEqual({ status: 403, code: 'FORBIDDEN' });
    for (const id of ['00000000-0000-4000-8000-000000000000', 'nope']) {
      const r = await signed(ctx.app, institute, 'get', `/v1/jobs/${id}/receipt`);
      expect({ status: r.status, code: r.body.code }).toEqual({ status: 404, code: 'NOT_FOUND' });
    }
  });

  it('is detected when altered: entry bytes, index or checkpoint', async () => {
    const logKey = parseVerifierKey(ctx.services.ledger.verifierKey());
    const text = (await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/receipt`)).text;
    const p = parseTlogProof(text);
    const entry = Buffer.from(p.extra!).toString('utf8');
    const forged = text.replace(/^extra .*$/m, `extra ${Buffer.from(entry.replace(institute.id, stranger.id)).toString('base64')}`);
    expect(() => verifyReceipt(forged, logKey, [], 0)).toThrow(/not proven included/);
    const lines = text.split('\n');
    const sizeLine = lines.indexOf('') + 2;
    lines[sizeLine] = String(Number(lines[sizeLine]) + 1);
    expect(() => verifyReceipt(lines.join('\n'), logKey, [], 0)).toThrow();
  });

  it('tds receipt verify: OK for the job\'s receipt, FAILED naming the kind for a true proof of another entry', async () => {
    const ok = await receiptVerify((await signed(ctx.app, institute, 'get', `/v1/jobs/${jobId}/receipt`)).text);
    expect(ok.code).toBe(0);
    expect(ok.out[0]).toMatch(/^OK: entry \d+ is in checkpoint /);
    // A genuine inclusion proof, under the served signed checkpoint, of entry 0 (the operator's registration): not a release.
    const cp = await ctx.services.ledger.latestCheckpoint();
    const [first] = (await ctx.services.ledger.entries(0, 1)).entries;
    const kind = (first!.entry as LedgerEntry).kind;
    expect(kind).not.toBe('job.authorized');
    const { proof } = await ctx.services.ledger.inclusionProof(0, cp.size);
    const other = formatTlogProof({ extra: utf8(canonicalEntryText(first!.entry as LedgerEntry)), index: 0, proof: proof.map(fromBase64), checkpoint: cp.note });
    const res = await receiptVerify(other);
    expect(res.code).toBe(1);
    expect(res.out).toEqual([`FAILED: entry 0 is a ${kind} entry, not job.authorized: not a job's release receipt`]);
  });
});
