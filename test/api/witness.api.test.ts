/**
 * The witness over real HTTP on loopback, case by case against C2SP
 * tlog-witness v1.0.0 (with the later 422 for the same size and another
 * root): bootstrap, extension, 409 with text/x.tlog.size, 422, 403, 404, 400,
 * cosignatures that verify as tlog-cosignature/v1, the monitoring endpoint,
 * state reloaded from disk, concurrent submissions, and a split view refused.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { sha256, toHex, utf8 } from '../../src/crypto/sha256.js';
import { cosignaturesBy, cosignerVerifierKey, parseCosignerKey, verifyCosignedCheckpoint } from '../../src/ledger/cosignature.js';
import { parseVerifierKey } from '../../src/ledger/checkpoint.js';
import { addSignatures, splitNote } from '../../src/ledger/note.js';
import { startWitness, type RunningWitness } from '../../src/witness/witness.server.js';
import { TestLog } from '../helpers/tlog.js';

const ORIGIN = 'tds.test/ledger';
const witnessKey = generateKeyPair().secretKey;
const WITNESS = 'witness.test/w1';
let dir: string;
let log: TestLog;
let w: RunningWitness;
let clock = 1_700_000_000;

async function post(body: string): Promise<{ status: number; type: string | null; text: string }> {
  const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, type: res.headers.get('content-type'), text: await res.text() };
}

async function start(): Promise<RunningWitness> {
  return startWitness({ name: WITNESS, secretKey: witnessKey, logKeys: [log.vkey], stateDir: dir, port: 0, now: () => clock++ });
}

beforeAll(async () => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-witness-'));
  log = new TestLog(ORIGIN).grow(5);
  w = await start();
});
afterAll(async () => {
  await w.close();
  fs.rmSync(dir, { recursive: true, force: true });
});

const cosigner = () => parseCosignerKey(w.vkey);

describe('tds witness (tlog-witness v1.0.0 add-checkpoint)', () => {
  it('publishes its verifier key with signature type 0x04', () => {
    expect(w.vkey).toBe(cosignerVerifierKey(WITNESS, publicKeyOf(witnessKey)));
    const key = parseCosignerKey(w.vkey);
    expect(Buffer.from(w.vkey.split('+')[2], 'base64')[0]).toBe(0x04);
    expect(toHex(key.keyId)).toBe(toHex(sha256(utf8(WITNESS), new Uint8Array([0x0a, 0x04]), publicKeyOf(witnessKey)).slice(0, 4)));
  });

  it('404 for an unknown origin, 403 for a checkpoint not signed by the log, 400 for old > size and malformed bodies', async () => {
    const other = new TestLog('other.test/log').grow(3);
    expect((await post(other.request(0))).status).toBe(404);
    const forged = log.request(0, 5, { note: log.checkpoint(5, generateKeyPair().secretKey) });
    expect((await post(forged)).status).toBe(403);
    // A signature line with the log's name and key id that does not verify: 403 too.
    const note = log.checkpoint(5);
    const { body, signatures } = splitNote(note);
    const raw = Buffer.from(signatures[0].split(' ')[2], 'base64');
    raw[10] ^= 1;
    expect((await post(log.request(0, 5, { note: `${body}\n\u2014 ${ORIGIN} ${raw.toString('base64')}\n` }))).status).toBe(403);
    expect((await post(log.request(6, 5, { proof: [] }))).status).toBe(400);
    for (const bad of ['', 'old 01\n\n' + note, 'old x\n\n' + note, 'old 0\nnot-base64\n\n' + note, 'old 0\n\nnot a note']) expect((await post(bad)).status).toBe(400);
  });

  it('bootstraps with old 0 and returns one cosignature/v1 line that verifies over the checkpoint', async () => {
    const res = await post(log.request(0, 3));
    expect(res.status).toBe(200);
    expect(res.text).toMatch(/^\u2014 witness\.test\/w1 [A-Za-z0-9+/=]+\n$/);
    const note = addSignatures(log.checkpoint(3), [res.text]);
    const verified = verifyCosignedCheckpoint(note, parseVerifierKey(log.vkey), [cosigner()], 1);
    expect(verified.checkpoint.size).toBe(3);
    expect(verified.cosigned[0].timestamp).toBeGreaterThanOrEqual(1_700_000_000);
    // 4-byte key id, 8-byte big-endian timestamp, 64-byte signature.
    expect(Buffer.from(res.text.trim().split(' ')[2], 'base64').length).toBe(76);
  });

  it('409 with the latest size as text/x.tlog.size when old is not its latest size', async () => {
    for (const old of [0, 2, 4]) {
      const res = await post(log.request(old, 5));
      expect({ old, status: res.status, type: res.type, text: res.text }).toEqual({ old, status: 409, type: 'text/x.tlog.size', text: '3\n' });
    }
  });

  it('extends with a valid consistency proof, and 422 for a bad one', async () => {
    const bad = log.proof(3, 5).map((p, i) => (i === 0 ? Buffer.from(sha256('x')).toString('base64') : p));
    expect((await post(log.request(3, 5, { proof: bad }))).status).toBe(422);
    expect((await post(log.request(3, 5, { proof: [] }))).status).toBe(422);
    const ok = await post(log.request(3, 5));
    expect(ok.status).toBe(200);
    expect(cosignaturesBy(splitNote(log.checkpoint(5)).body, [ok.text.trim()], cosigner())).toHaveLength(1);
  });

  it('same size: cosigns the same root again, 422 for another root', async () => {
    expect((await post(log.request(5, 5))).status).toBe(200);
    const fork = new TestLog(ORIGIN, log.secretKey).grow(5, 'fork');
    const res = await post(fork.request(5, 5, { proof: [] }));
    expect(res.status).toBe(422);
    expect(res.text).toBe('checkpoint size 5 has another root than the one cosigned\n');
  });

  it('same size and root with a non-empty proof: 422 saying the proof must be empty, and no evidence of a fork', async () => {
    const evidenceLog = path.join(dir, 'evidence.log');
    const evidence = () => (fs.existsSync(evidenceLog) ? fs.readFileSync(evidenceLog, 'utf8') : '');
    const before = evidence();
    const res = await post(log.request(5, 5, { proof: log.proof(3, 5) }));
    expect(res.status).toBe(422);
    expect(res.text).toBe('the consistency proof must be empty when old equals the checkpoint size 5\n');
    expect(evidence()).toBe(before);
    // Another root with a proof is still a fork, and kept as one.
    const fork = new TestLog(ORIGIN, log.secretKey).grow(5, 'fork2');
    const forked = await post(fork.request(5, 5, { proof: log.proof(3, 5) }));
    expect({ status: forked.status, text: forked.text }).toEqual({ status: 422, text: 'checkpoint size 5 has another root than the one cosigned\n' });
    expect(evidence().slice(before.length)).toContain(splitNote(fork.checkpoint(5)).body.split('\n')[2]);
  });

  it('refuses a forged second history of the same origin signed with the log key (split view), and keeps it as evidence', async () => {
    // The fork shares the first 3 leaves the witness saw at size 3, then differs; the witness is at 5.
    const fork = new TestLog(ORIGIN, log.secretKey);
    fork.leaves.push(...log.leaves.slice(0, 3));
    fork.grow(6, 'fork');
    for (const old of [5]) {
      const res = await post(fork.request(old, 9, { proof: fork.proof(5, 9) }));
      expect(res.status).toBe(422);
    }
    expect((await post(fork.request(0, 9))).status).toBe(409);
    const evidence = fs.readFileSync(path.join(dir, 'evidence.log'), 'utf8');
    expect(evidence).toContain(splitNote(fork.checkpoint(9)).body.split('\n')[2]);
    // The true history still extends.
    log.grow(2);
    expect((await post(log.request(5, 7))).status).toBe(200);
  });

  it('serves the latest cosigned checkpoint, with both signatures, at /<sha256(origin)>/checkpoint; 404 for other origins', async () => {
    const res = await fetch(`${w.url}/${toHex(sha256(utf8(ORIGIN)))}/checkpoint`);
    expect(res.status).toBe(200);
    const note = await res.text();
    expect(verifyCosignedCheckpoint(note, parseVerifierKey(log.vkey), [cosigner()], 1).checkpoint.size).toBe(7);
    expect((await fetch(`${w.url}/${toHex(sha256(utf8('other')))}/checkpoint`)).status).toBe(404);
  });

  it('keeps its state across a restart (read back from the state directory)', async () => {
    await w.close();
    w = await start();
    expect(await post(log.request(0, 7))).toMatchObject({ status: 409, text: '7\n' });
    const record = JSON.parse(fs.readFileSync(path.join(dir, `${toHex(sha256(utf8(ORIGIN)))}.json`), 'utf8'));
    expect(record).toMatchObject({ origin: ORIGIN, size: 7 });
    expect(record.checkpoint).toContain(`\u2014 ${WITNESS} `);
  });

  it('never rolls back under concurrent submissions: each size is cosigned at most once from its predecessor', async () => {
    log.grow(20);
    // 20 clients race, each extending from 7 to a different size: exactly one wins, the rest get 409 with the winner's size.
    const sizes = Array.from({ length: 20 }, (_, i) => 8 + i);
    const results = await Promise.all(sizes.map((s) => post(log.request(7, s))));
    const won = results.filter((r) => r.status === 200);
    expect(won).toHaveLength(1);
    const winner = sizes[results.findIndex((r) => r.status === 200)];
    for (const r of results.filter((x) => x.status !== 200)) expect({ status: r.status, text: r.text }).toEqual({ status: 409, text: `${winner}\n` });
  });
});
