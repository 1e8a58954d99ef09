/**
 * The witness's HTTP server (C2SP tlog-witness v1.0.0): `POST
 * /add-checkpoint` and the monitoring read `GET /<hex sha256(origin)>/checkpoint`.
 * Requests for one origin are handled one at a time, and the new record is
 * persisted before the cosignature is sent, so the check of the old size and
 * the update are atomic (the race the spec warns about cannot happen).
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import { publicKeyOf } from '../crypto/ed25519.js';
import { parseVerifierKey, type NoteVerifier } from '../ledger/checkpoint.js';
import { cosignerVerifierKey } from '../ledger/cosignature.js';
import { decideAddCheckpoint, type WitnessIdentity } from './add-checkpoint.js';
import { WitnessState } from './witness-state.js';

/** How to run a witness. */
export interface WitnessOptions {
  name: string;
  secretKey: Uint8Array;
  /** Verifier keys of the logs it witnesses; each key's name is the log's origin. */
  logKeys: string[];
  stateDir: string;
  port: number;
  host?: string;
  /** Clock in POSIX seconds (tests). */
  now?: () => number;
  /** Where to report refusals and failures (default: nowhere). */
  log?: (line: string) => void;
}

/** A running witness. */
export interface RunningWitness {
  url: string;
  vkey: string;
  close(): Promise<void>;
}

// A checkpoint with 63 proof lines and a hundred signatures is well under this.
const MAX_BODY = 64 * 1024;

/** The logs map of a witness from verifier key texts; throws naming the bad key. */
export function logsOf(logKeys: string[]): Map<string, NoteVerifier[]> {
  const logs = new Map<string, NoteVerifier[]>();
  for (const text of logKeys) {
    let key: NoteVerifier;
    try {
      key = parseVerifierKey(text.trim());
    } catch (err) {
      throw new Error(`log key ${text.trim()}: ${(err as Error).message}`, { cause: err });
    }
    logs.set(key.name, [...(logs.get(key.name) ?? []), key]);
  }
  return logs;
}

function readBody(req: http.IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size <= MAX_BODY) chunks.push(c);
    });
    req.on('end', () => resolve(size > MAX_BODY ? null : Buffer.concat(chunks).toString('utf8')));
    req.on('error', reject);
  });
}

function send(res: http.ServerResponse, status: number, contentType: string, body: string): void {
  res.writeHead(status, { 'Content-Type': contentType, 'Content-Length': Buffer.byteLength(body), 'Cache-Control': 'no-store' });
  res.end(body);
}

/** Starts a witness; resolves once it listens. Throws when the state directory or a log key is unusable. */
export async function startWitness(opts: WitnessOptions): Promise<RunningWitness> {
  const id: WitnessIdentity = { name: opts.name, secretKey: opts.secretKey, logs: logsOf(opts.logKeys) };
  const vkey = cosignerVerifierKey(opts.name, publicKeyOf(opts.secretKey));
  const state = new WitnessState(opts.stateDir);
  const now = opts.now ?? (() => Math.floor(Date.now() / 1000));
  const log = opts.log ?? (() => undefined);
  // One queue for all origins: requests are small and fast, and one queue keeps the code obviously atomic.
  let queue: Promise<unknown> = Promise.resolve();

  const addCheckpoint = async (body: string, res: http.ServerResponse): Promise<void> => {
    const run = queue.then(() => {
      const out = decideAddCheckpoint(body, (origin) => state.latest(origin), id, now());
      if (out.misbehaviour) state.keepEvidence(out.body.trim(), body);
      // Persist before answering: a crash after this line leaves the record, before it leaves no cosignature.
      if (out.record) state.save(out.record);
      return out;
    });
    queue = run.catch(() => undefined);
    try {
      const out = await run;
      if (out.status !== 200) log(`add-checkpoint ${out.status}: ${out.body.trim()}`);
      send(res, out.status, out.contentType, out.body);
    } catch (err) {
      log(`add-checkpoint failed: ${(err as Error).message}`);
      send(res, 500, 'text/plain; charset=utf-8', 'could not persist the witness state\n');
    }
  };

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? '/', 'http://witness');
    void (async () => {
      if (url.pathname === '/add-checkpoint') {
        if (req.method !== 'POST') return send(res, 405, 'text/plain; charset=utf-8', 'add-checkpoint takes POST\n');
        const body = await readBody(req);
        if (body === null) return send(res, 413, 'text/plain; charset=utf-8', 'request too large\n');
        return addCheckpoint(body, res);
      }
      const m = /^\/([0-9a-f]{64})\/checkpoint$/.exec(url.pathname);
      if (m && req.method === 'GET') {
        const record = state.byOriginHash(m[1]);
        return record ? send(res, 200, 'text/plain; charset=utf-8', record.checkpoint) : send(res, 404, 'text/plain; charset=utf-8', 'no checkpoint cosigned for that origin\n');
      }
      send(res, 404, 'text/plain; charset=utf-8', 'not found\n');
    })().catch((err: unknown) => {
      log(`request failed: ${(err as Error).message}`);
      if (!res.headersSent) send(res, 500, 'text/plain; charset=utf-8', 'internal error\n');
    });
  });
  // Keep-alive (the spec asks witnesses to support it) without holding sockets forever.
  server.keepAliveTimeout = 30_000;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  const host = opts.host && opts.host !== '0.0.0.0' ? opts.host : '127.0.0.1';
  return {
    url: `http://${host.includes(':') ? `[${host}]` : host}:${port}`,
    vkey,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}
