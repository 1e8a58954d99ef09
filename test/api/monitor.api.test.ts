/**
 * `tds monitor --once` against the real service on loopback: a hospital sees
 * exactly the events naming it (its datasets' releases among them), each
 * proven; an institute only its own; a second poll prints only what is new;
 * a checkpoint inconsistent with the one kept (a forged history signed with
 * the service's own key) exits 1 naming both, which stay in the state file,
 * and so does a validly signed checkpoint the log refuses to prove (served by
 * a tampering proxy in front of the service), while a log that fails (5xx,
 * dropped connection) is an ordinary failure with no evidence; a missing
 * witness quorum exits 1.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { listenOnLoopback } from '../helpers/loopback.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { activeContract } from '../helpers/scenario.js';
import { runTds } from '../../src/cli/tds.js';
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { sha256 } from '../../src/crypto/sha256.js';
import { formatCheckpointBody, signNote } from '../../src/ledger/checkpoint.js';
import { cosignerVerifierKey } from '../../src/ledger/cosignature.js';
import type { LedgerEntry } from '../../src/ledger/ledger-entry.js';

let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let hospitalA: Actor;
let hospitalB: Actor;
let instituteX: Actor;
let auditor: Actor;
let contractAX: string;
let datasetsOfA: string[];

async function tds(who: Actor, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  return tdsAt(serviceUrl, who, ...argv);
}

async function tdsAt(url: string, who: Actor, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const keyFile = path.join(tmp, `${who.id}.json`);
  if (!fs.existsSync(keyFile)) fs.writeFileSync(keyFile, JSON.stringify({ id: who.id, kid: who.kid, privateJwk: who.privateJwk }), { mode: 0o600 });
  const out: string[] = [];
  const err: string[] = [];
  const env = { TDS_URL: url, TDS_KEY: keyFile, TDS_AUDIENCE: ctx.config.audience };
  const code = await runTds(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env });
  return { code, out, err };
}

async function release(consumer: Actor, contractId: string): Promise<void> {
  const res = await signed(ctx.app, consumer, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000006' });
  if (res.status !== 201) throw new Error(`job: ${res.status} ${JSON.stringify(res.body)}`);
}

/** Waits until the served checkpoint covers every integrated entry (the background loop signs within ~100 ms). */
async function settled(): Promise<void> {
  await ctx.services.ledger.flush();
}

beforeAll(async () => {
  ctx = await createTestContext({}, { background: true });
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-monitor-'));
  [hospitalA, hospitalB, instituteX, auditor] = await Promise.all([makeParticipant(ctx, ['provider']), makeParticipant(ctx, ['provider']), makeParticipant(ctx, ['consumer']), makeParticipant(ctx, ['auditor'])]);
  const instituteY = await makeParticipant(ctx, ['consumer']);
  contractAX = await activeContract(ctx, hospitalA, instituteX, { maxInvocations: 10 });
  const contractBY = await activeContract(ctx, hospitalB, instituteY);
  for (let i = 0; i < 3; i++) await release(instituteX, contractAX);
  await release(instituteY, contractBY);
  await settled();
  const mine = await signed(ctx.app, hospitalA, 'get', `/v1/datasets?provider=${hospitalA.id}`);
  datasetsOfA = (mine.body.items ?? mine.body.datasets ?? mine.body.data ?? []).map((d: { id: string }) => d.id);
});
afterAll(async () => {
  server?.closeAllConnections();
  await new Promise((r) => server?.close(r));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

const logKey = () => ctx.services.ledger.verifierKey();

async function namingEntries(id: string): Promise<LedgerEntry[]> {
  const res = await signed(ctx.app, auditor, 'get', '/v1/ledger/entries?limit=1000');
  return (res.body.entries as Array<{ entry: LedgerEntry }>).map((e) => e.entry).filter((e) => e.actor === id || Object.values(e.subjects).includes(id));
}

const indexOf = (line: string) => Number(/^\[(\d+) /.exec(line)?.[1]);

/** A page of GET /v1/ledger/mine as served. */
type MinePage = { treeSize: number; checkpoint: string; entries: Array<Record<string, unknown>>; nextStart: number };

/** The real page served with `checkpoint` (a note of `size`) instead of the real one, and no entries. */
const servedWith = (checkpoint: string, size: number) => (page: MinePage): MinePage => ({ ...page, treeSize: size, checkpoint, entries: [], nextStart: size });

/**
 * A tampering proxy in front of the service (or the service misbehaving):
 * every page of /v1/ledger/mine is served as `mine` rewrites it; a
 * consistency proof request is forwarded, or answered by `consistency` when
 * given ('drop' closes the connection). Everything else is forwarded as is.
 */
async function tamperingProxy(mine: (page: MinePage) => MinePage, consistency?: { status: number; body: unknown } | 'drop'): Promise<{ url: string; close(): Promise<void> }> {
  const proxy = http.createServer((req, res) => {
    void (async () => {
      if (req.url?.startsWith('/v1/ledger/proofs/consistency') && consistency) {
        if (consistency === 'drop') return req.socket.destroy();
        res.writeHead(consistency.status, { 'content-type': 'application/problem+json' });
        return res.end(JSON.stringify(consistency.body));
      }
      const headers = Object.fromEntries(Object.entries(req.headers).filter(([k]) => !['host', 'connection', 'content-length', 'transfer-encoding', 'keep-alive'].includes(k))) as Record<string, string>;
      const upstream = await fetch(`${serviceUrl}${req.url}`, { method: req.method, headers });
      let text = await upstream.text();
      if (req.url?.startsWith('/v1/ledger/mine') && upstream.ok) text = JSON.stringify(mine(JSON.parse(text) as MinePage));
      res.writeHead(upstream.status, { 'content-type': upstream.headers.get('content-type') ?? 'application/json' });
      res.end(text);
    })().catch(() => res.destroy());
  });
  await new Promise<void>((resolve) => proxy.listen(0, '127.0.0.1', resolve));
  return {
    url: `http://127.0.0.1:${(proxy.address() as AddressInfo).port}`,
    close: () => new Promise<void>((resolve) => {
      proxy.closeAllConnections();
      proxy.close(() => resolve());
    }),
  };
}

/** A monitor state file that has verified the real ledger once, its kept checkpoint, and a validly signed checkpoint far beyond the integrated tree. */
async function keptAndBeyond(name: string): Promise<{ state: string; kept: string; size: number; beyond: string; beyondSize: number }> {
  const state = path.join(tmp, name);
  expect((await tds(hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey())).code).toBe(0);
  const kept = JSON.parse(fs.readFileSync(state, 'utf8')).checkpoint as string;
  const size = Number(kept.split('\n')[1]);
  const beyondSize = size + 1000;
  const beyond = signNote(formatCheckpointBody({ origin: ctx.config.ledgerOrigin, size: beyondSize, rootHash: sha256(`beyond-${name}`) }), ctx.config.ledgerOrigin, ctx.keys.ledger.secretKey);
  return { state, kept, size, beyond, beyondSize };
}

describe('tds monitor', () => {
  it('lists exactly the events about a hospital (its datasets released), each proven; an institute sees only its own', async () => {
    const stateA = path.join(tmp, 'a.state.json');
    const a = await tds(hospitalA, 'monitor', '--once', '--state', stateA, '--log-key', logKey());
    expect(a.code).toBe(0);
    expect(a.out.map(indexOf)).toEqual((await namingEntries(hospitalA.id)).map((e) => e.index));
    const releases = a.out.filter((l) => l.includes(' released to job '));
    expect(releases).toHaveLength(3);
    expect(releases.map((l) => /invocation (\d+) of 10/.exec(l)?.[1])).toEqual(['1', '2', '3']);
    expect(datasetsOfA).toHaveLength(1);
    for (const l of releases) expect(l).toContain(`dataset ${datasetsOfA[0]} released`);
    expect(a.out.join('\n')).not.toContain(hospitalB.id);
    expect(a.err.join('\n')).toMatch(/checkpoint size \d+ verified; \d+ new event/);

    const x = await tds(instituteX, 'monitor', '--once', '--state', path.join(tmp, 'x.state.json'), '--log-key', logKey());
    expect(x.code).toBe(0);
    expect(x.out.map(indexOf)).toEqual((await namingEntries(instituteX.id)).map((e) => e.index));
    expect(x.out.join('\n')).not.toContain(hospitalB.id);

    // The next poll prints only what is new: one more release.
    expect((await tds(hospitalA, 'monitor', '--once', '--state', stateA, '--log-key', logKey())).out).toEqual([]);
    await release(instituteX, contractAX);
    await settled();
    const again = await tds(hospitalA, 'monitor', '--once', '--state', stateA, '--log-key', logKey());
    expect(again.out.filter((l) => l.includes('released to job'))).toHaveLength(1);
    expect(again.out.join('\n')).toMatch(/invocation 4 of 10/);
  });

  it('exits 1 naming both checkpoints when the served one is inconsistent with the one it kept, and keeps both', async () => {
    const state = path.join(tmp, 'split.state.json');
    expect((await tds(hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey())).code).toBe(0);
    const saved = JSON.parse(fs.readFileSync(state, 'utf8'));
    const size = Number(saved.checkpoint.split('\n')[1]);
    // A forged history of the same origin and size, signed with the service's own key: what a split view shows one party.
    const forged = signNote(formatCheckpointBody({ origin: ctx.config.ledgerOrigin, size: size - 1, rootHash: sha256('forged') }), ctx.config.ledgerOrigin, ctx.keys.ledger.secretKey);
    fs.writeFileSync(state, JSON.stringify({ ...saved, checkpoint: forged }));
    const res = await tds(hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey());
    expect(res.code).toBe(1);
    const alert = res.err.join('\n');
    expect(alert).toMatch(new RegExp(`ALERT: checkpoint ${ctx.config.ledgerOrigin} size ${size - 1} root \\S+ \\(kept\\) and checkpoint ${ctx.config.ledgerOrigin} size \\d+ root \\S+ \\(served now\\) are not consistent`));
    const after = JSON.parse(fs.readFileSync(state, 'utf8'));
    expect(after.evidence).toHaveLength(1);
    expect(after.evidence[0].kept).toBe(forged);
    expect(after.evidence[0].offered.split('\n')[0]).toBe(ctx.config.ledgerOrigin);
    // The kept checkpoint is not replaced: the next run alerts again.
    expect((await tds(hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey())).code).toBe(1);
  });

  it('alerts and keeps both when the log refuses (4xx) to prove a checkpoint it signed', async () => {
    const { state, kept, size, beyond, beyondSize } = await keptAndBeyond('refused.state.json');
    // The consistency request reaches the real service, which answers 400 VALIDATION_FAILED: beyond the integrated tree size.
    const proxy = await tamperingProxy(servedWith(beyond, beyondSize));
    try {
      const res = await tdsAt(proxy.url, hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey());
      expect(res.code).toBe(1);
      const alert = res.err.join('\n');
      expect(alert).toMatch(new RegExp(`ALERT: checkpoint ${ctx.config.ledgerOrigin} size ${size} root \\S+ \\(kept\\) and checkpoint ${ctx.config.ledgerOrigin} size ${beyondSize} root \\S+ \\(served now\\) are not proven consistent: the log refuses the consistency proof from ${size} to ${beyondSize} \\(400 VALIDATION_FAILED: to ${beyondSize} is beyond the integrated tree size \\d+\\)`));
      expect(alert).toContain(`both checkpoints are kept in ${state} (evidence)`);
      const after = JSON.parse(fs.readFileSync(state, 'utf8'));
      expect(after.evidence).toHaveLength(1);
      expect(after.evidence[0]).toMatchObject({ kept, offered: beyond });
      expect(after.checkpoint).toBe(kept);
      // Another refusal (here 404) is one too.
      const refusing = await tamperingProxy(servedWith(beyond, beyondSize), { status: 404, body: { code: 'NOT_FOUND', detail: 'no tree of that size' } });
      try {
        expect((await tdsAt(refusing.url, hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey())).err.join('\n')).toMatch(/ALERT: .* refuses the consistency proof .*\(404 NOT_FOUND: no tree of that size\)/);
      } finally {
        await refusing.close();
      }
    } finally {
      await proxy.close();
    }
    // A page whose entries come without inclusion proofs for the checkpoint's size (a first run: nothing kept yet) alerts too.
    const fresh = path.join(tmp, 'unproven.state.json');
    const unproven = await tamperingProxy((page) => ({ ...page, treeSize: beyondSize, checkpoint: beyond, entries: page.entries.map(({ proof: _, ...e }) => e) }));
    try {
      const res = await tdsAt(unproven.url, hospitalA, 'monitor', '--once', '--state', fresh, '--log-key', logKey());
      expect(res.code).toBe(1);
      expect(res.err.join('\n')).toMatch(new RegExp(`ALERT: entry \\d+: no inclusion proof served for checkpoint ${ctx.config.ledgerOrigin} size ${beyondSize} `));
      expect(JSON.parse(fs.readFileSync(fresh, 'utf8')).evidence[0]).toMatchObject({ offered: beyond });
    } finally {
      await unproven.close();
    }
  });

  it('a log that fails (5xx) or drops the connection when asked for the proof is an ordinary failure: no ALERT, no evidence', async () => {
    const { state, kept, beyond, beyondSize } = await keptAndBeyond('failing.state.json');
    for (const answer of [{ status: 503, body: { code: 'DATABASE_UNAVAILABLE', detail: 'the database is unavailable' } }, { status: 500, body: { code: 'INTERNAL', detail: 'internal error' } }, 'drop' as const]) {
      const proxy = await tamperingProxy(servedWith(beyond, beyondSize), answer);
      try {
        const res = await tdsAt(proxy.url, hospitalA, 'monitor', '--once', '--state', state, '--log-key', logKey());
        expect(res.code).toBe(1);
        expect(res.err.join('\n')).not.toContain('ALERT');
        expect(res.err[0]).toMatch(/^tds: monitor: /);
        const after = JSON.parse(fs.readFileSync(state, 'utf8'));
        expect(after.evidence).toEqual([]);
        expect(after.checkpoint).toBe(kept);
      } finally {
        await proxy.close();
      }
    }
  });

  it('exits 1 when the witness quorum is missing, and refuses a bad command line', async () => {
    const w = cosignerVerifierKey('w.test/witness', publicKeyOf(generateKeyPair().secretKey));
    const res = await tds(hospitalA, 'monitor', '--once', '--state', path.join(tmp, 'q.state.json'), '--log-key', logKey(), '--witness', w, '--quorum', '1');
    expect(res.code).toBe(1);
    expect(res.err.join('\n')).toMatch(/0 of the 1 witness cosignature\(s\) required/);
    expect((await tds(hospitalA, 'monitor', '--once', '--state', path.join(tmp, 'q2.json'), '--quorum', '2')).code).toBe(2);
  });
});
