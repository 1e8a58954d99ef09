/**
 * The compute-to-data commands: `tds node` (the hospital's data node, in the
 * foreground), `tds analysis submit` and `tds job result` (the institute),
 * and `tds review list|approve|reject` (the provider's output checkers).
 * Every result shown is first checked offline: the provider's signature over
 * its RFC 8785 bytes, and its digest against the job's resultDigest.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import { saveReceiptBeside } from './receipt-command.js';
import path from 'node:path';
import { pino } from 'pino';
import type { TdsClient } from '../client/tds-client.js';
import { digestOf, getResult, listJobs, postReview, reviewVote, signDocument, submitAnalysis, verifyDocumentSignature, type ComputeJob, type SignedResult } from '../client/compute-api.js';
import { startDataNode } from '../compute/data-node.js';
import { buildSandboxImage, defaultWorkerScript, DEFAULT_LIMITS, probeSandbox, type RunnerMode } from '../compute/sandbox.js';
import { UsageError, requireOption, stringOption, type CliIo, type CommandSpec, type ParsedCommand } from './cli-args.js';
import type { PublicJwk } from '../crypto/ed25519.js';

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

function numberOption(p: ParsedCommand, name: string, fallback: number, min = 1): number {
  const v = stringOption(p, name);
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!/^\d+(\.\d+)?$/.test(v) || n < min) throw new UsageError(`${p.command}: --${name} must be a number ≥ ${min}`);
  return n;
}

/**
 * Global fetch cannot take a CA per call, and Node reads NODE_EXTRA_CA_CERTS
 * only at start-up: with --ca the node re-runs itself once with it set.
 */
async function reexecWithCa(ca: string): Promise<number> {
  const child = spawn(process.execPath, [...process.execArgv, ...process.argv.slice(1)], { stdio: 'inherit', env: { ...process.env, NODE_EXTRA_CA_CERTS: path.resolve(ca) } });
  const forward = (s: NodeJS.Signals) => child.kill(s);
  process.on('SIGINT', forward);
  process.on('SIGTERM', forward);
  return new Promise((resolve) => child.on('exit', (code, signal) => resolve(code ?? (signal ? 1 : 0))));
}

/** `tds node`. */
export const nodeCommand: CommandSpec = {
  name: 'node',
  synopsis: '--dir DIR [--ca PEM] [--interval S] [--memory MB] [--cpu S] [--timeout S] [--threads N] [--unsafe-no-sandbox]',
  summary: 'provider: run queued analyses on the files in DIR in a sandbox and post signed, disclosure-checked results',
  options: { dir: { type: 'string' }, ca: { type: 'string' }, interval: { type: 'string' }, memory: { type: 'string' }, cpu: { type: 'string' }, timeout: { type: 'string' }, threads: { type: 'string' }, 'unsafe-no-sandbox': { type: 'boolean' } },
  run: async ({ p, io, client }) => {
    const dir = path.resolve(requireOption(p, 'dir'));
    if (!fs.existsSync(dir) || !fs.statSync(dir).isDirectory()) throw new Error(`--dir ${dir} is not a directory`);
    const ca = stringOption(p, 'ca');
    if (ca && process.env.NODE_EXTRA_CA_CERTS !== path.resolve(ca)) {
      if (!fs.existsSync(ca)) throw new Error(`--ca ${ca} not found`);
      return reexecWithCa(ca);
    }
    const limits = {
      ...DEFAULT_LIMITS,
      memoryBytes: numberOption(p, 'memory', DEFAULT_LIMITS.memoryBytes / 1024 ** 2, 512) * 1024 ** 2,
      cpuSeconds: numberOption(p, 'cpu', DEFAULT_LIMITS.cpuSeconds),
      wallMs: numberOption(p, 'timeout', DEFAULT_LIMITS.wallMs / 1000) * 1000,
      threads: numberOption(p, 'threads', DEFAULT_LIMITS.threads),
    };
    const logger = pino({ name: 'tds-node' }, pino.destination(2));
    let mode: RunnerMode;
    if (p.values['unsafe-no-sandbox'] === true) {
      mode = { sandbox: false, workerScript: defaultWorkerScript() };
      const warning = 'UNSAFE: --unsafe-no-sandbox given: analyses run WITHOUT bubblewrap (network, files and user are NOT confined); never do this with real patient data';
      io.err(`tds node: ${warning}`);
      logger.warn({ unsafe: true }, warning);
    } else {
      let reason: string;
      try {
        const image = buildSandboxImage();
        const probed = await probeSandbox(image);
        if (probed.ok) {
          mode = { sandbox: true, image };
        } else {
          reason = probed.reason;
        }
      } catch (e) {
        reason = (e as Error).message;
      }
      if (!mode!) {
        io.err(`tds node: the sandbox is not available (${reason!}); refusing to start. Install bubblewrap (apt-get install bubblewrap) and prlimit (util-linux), or pass --unsafe-no-sandbox to run analyses unconfined.`);
        return 1;
      }
    }
    const node = startDataNode({ client: await client(), dir, mode, limits, logger, intervalMs: numberOption(p, 'interval', 5, 0.05) * 1000 });
    io.err(`tds node: polling ${(await client()).baseUrl} for jobs on the files in ${dir}${mode.sandbox ? '' : ' (UNSANDBOXED)'} (Ctrl-C to stop)`);
    await waitForSignal();
    await node.stop();
    return 0;
  },
};

/** The provider's registered keys (a result carries no kid, so any of them may have signed it). */
async function providerKeys(client: TdsClient, providerId: string): Promise<PublicJwk[]> {
  const participant = await client.getParticipant(providerId);
  return participant.keys.map((k) => k.publicKeyJwk);
}

/** Check a signed result offline: signature by the job's provider, digest as the service recorded it. */
export async function checkSignedResult(client: TdsClient, job: ComputeJob, signed: SignedResult): Promise<{ ok: boolean; problems: string[] }> {
  const problems: string[] = [];
  const digest = digestOf(signed.result);
  if (job.resultDigest && job.resultDigest !== digest) problems.push(`result digest ${digest} differs from the job's ${job.resultDigest}`);
  if (signed.result.jobId !== job.id) problems.push('the result names another job');
  if (!job.providerId) problems.push('the job names no provider');
  else if (!(await providerKeys(client, job.providerId)).some((k) => verifyDocumentSignature(signed.result, signed.signature, k))) problems.push('the provider signature does not verify');
  return { ok: problems.length === 0, problems };
}

/** Print a result as a table (or JSON). */
function printResult(io: CliIo, signed: SignedResult, json: boolean): void {
  if (json) {
    io.out(JSON.stringify(signed, null, 2));
    return;
  }
  const r = signed.result as { status?: string; columns?: Array<{ name: string }>; rows?: unknown[][]; n?: number; residualDf?: number; disclosure?: { suppressedRows?: number; rounded?: unknown; noise?: unknown }; error?: { code?: string } };
  const cols = (r.columns ?? []).map((c) => c.name);
  const rows = (r.rows ?? []).map((row) => row.map((v) => (v === null ? '(suppressed)' : String(v))));
  const widths = cols.map((c, i) => Math.max(c.length, ...rows.map((row) => (row[i] ?? '').length)));
  io.out(cols.map((c, i) => c.padEnd(widths[i]!)).join('  '));
  for (const row of rows) io.out(row.map((v, i) => v.padEnd(widths[i]!)).join('  '));
  const notes = [`status ${r.status}`, `suppressed rows ${r.disclosure?.suppressedRows ?? 0}`, `counts rounded ${String(r.disclosure?.rounded)}`];
  if (r.n !== undefined) notes.push(`n ${r.n}`, `residual df ${r.residualDf}`);
  if (r.disclosure?.noise) notes.push(`noise ${JSON.stringify(r.disclosure.noise)}`);
  if (r.error?.code) notes.push(`error ${r.error.code}`);
  io.out(`(${notes.join(', ')}; provider signature verified)`);
}

const FINAL = new Set(['completed', 'rejected', 'failed']);

/** Fetch, verify and print (or save) a job's result. */
async function showResult(client: TdsClient, jobId: string, io: CliIo, opts: { out?: string; json: boolean }): Promise<number> {
  const job = await client.request<ComputeJob>('GET', `/v1/jobs/${encodeURIComponent(jobId)}`);
  const signed = await getResult(client, jobId);
  const check = await checkSignedResult(client, job, signed);
  if (!check.ok) {
    io.err(`tds: the result of job ${jobId} does not verify: ${check.problems.join('; ')}`);
    return 1;
  }
  if (opts.out) {
    fs.writeFileSync(opts.out, `${JSON.stringify({ ...signed, state: signed.state ?? job.state }, null, 2)}\n`);
    io.out(`result of job ${jobId} (${digestOf(signed.result)}, provider signature verified) written to ${opts.out}`);
    return 0;
  }
  printResult(io, signed, opts.json);
  return 0;
}

/** `tds analysis submit`. */
export const analysisSubmit: CommandSpec = {
  name: 'analysis submit',
  synopsis: '--contract ID --purpose CODE --file analysis.json [--wait] [--wait-timeout S] [--idempotency-key K]',
  summary: 'consumer: send an analysis to run at the data; with --wait print the checked result once released',
  options: { contract: { type: 'string' }, purpose: { type: 'string' }, file: { type: 'string' }, wait: { type: 'boolean' }, 'wait-timeout': { type: 'string' }, 'idempotency-key': { type: 'string' } },
  run: async ({ p, io, client, settings }) => {
    const file = requireOption(p, 'file');
    let analysis: unknown;
    try {
      analysis = JSON.parse(fs.readFileSync(file, 'utf8'));
    } catch (e) {
      throw new Error(`${file}: ${(e as NodeJS.ErrnoException).code === 'ENOENT' ? 'not found' : 'not JSON'}`, { cause: e });
    }
    const c = await client();
    const job = await submitAnalysis(c, { contractId: requireOption(p, 'contract'), purpose: requireOption(p, 'purpose'), analysis }, stringOption(p, 'idempotency-key'));
    if (job.analysisDigest && job.analysisDigest !== digestOf(analysis)) io.err(`warning: the service's analysisDigest ${job.analysisDigest} is not the digest of ${file}`);
    io.out(`job ${job.id} ${job.state} (analysisDigest ${job.analysisDigest})`);
    await saveReceiptBeside(c, job.id, process.cwd(), io);
    if (p.values.wait !== true) return 0;
    const deadline = Date.now() + numberOption(p, 'wait-timeout', 600) * 1000;
    let current: ComputeJob = job;
    let saidHeld = false;
    while (!FINAL.has(current.state)) {
      if (Date.now() > deadline) {
        io.err(`tds: job ${job.id} is still ${current.state}; check later with tds job result ${job.id}`);
        return 1;
      }
      if (current.state === 'held' && !saidHeld) {
        io.err(`job ${job.id} is held for output review`);
        saidHeld = true;
      }
      await new Promise((r) => setTimeout(r, 1000));
      current = await c.request<ComputeJob>('GET', `/v1/jobs/${encodeURIComponent(job.id)}`);
    }
    if (current.state !== 'completed') {
      io.err(`tds: job ${job.id} ${current.state}${current.reason ? `: ${current.reason}` : ''}`);
      return 1;
    }
    return showResult(c, job.id, io, { json: settings.json });
  },
};

/** `tds job result`. */
export const jobResult: CommandSpec = {
  name: 'job result',
  synopsis: '<jobId> [--out file.json]',
  summary: 'fetch a compute job\'s signed result, verify the provider\'s signature, print it or save it',
  options: { out: { type: 'string' } },
  positionals: [1, 1],
  run: async ({ p, io, client, settings }) => showResult(await client(), p.positionals[0]!, io, { out: stringOption(p, 'out'), json: settings.json }),
};

/** `tds review list`. */
export const reviewList: CommandSpec = {
  name: 'review list',
  synopsis: '[--state held]',
  summary: 'reviewer: the held results you may review',
  options: { state: { type: 'string' } },
  run: async ({ p, io, client, settings }) => {
    const page = await listJobs(await client(), { role: 'reviewer', state: stringOption(p, 'state') ?? 'held', limit: 200 });
    if (settings.json) io.out(JSON.stringify(page.items, null, 2));
    else if (page.items.length === 0) io.out('no results waiting for review');
    else for (const j of page.items) io.out(`${j.id}  ${j.state}  contract ${j.contractId}  resultDigest ${j.resultDigest ?? '-'}`);
    return 0;
  },
};

function reviewCommand(decision: 'approve' | 'reject'): CommandSpec {
  return {
    name: `review ${decision}`,
    synopsis: '<jobId> [--comment TEXT]',
    summary: `reviewer: ${decision} a held result (signs {type: "tds.review.v1", jobId, resultDigest, decision})`,
    options: { comment: { type: 'string' } },
    positionals: [1, 1],
    run: async ({ p, io, client }) => {
      const c = await client();
      const jobId = p.positionals[0]!;
      // Sign the digest of the result as fetched and checked, not a digest taken on trust.
      // A reviewer sees the job through its review queue (GET /v1/jobs/:id is for the parties).
      const job = (await listJobs(c, { role: 'reviewer', state: 'held', limit: 200 })).items.find((j) => j.id === jobId);
      if (!job) throw new Error(`job ${jobId} is not among the held results you may review (tds review list)`);
      const signed = await getResult(c, jobId);
      const check = await checkSignedResult(c, job, signed);
      if (!check.ok) throw new Error(`the result does not verify, not voting: ${check.problems.join('; ')}`);
      const resultDigest = digestOf(signed.result);
      const signature = signDocument(reviewVote(jobId, resultDigest, decision), c.credentials!.privateJwk);
      const comment = stringOption(p, 'comment');
      const after = await postReview(c, jobId, { decision, signature, ...(comment ? { comment } : {}) });
      io.out(`job ${jobId}: ${decision} recorded (resultDigest ${resultDigest}); job is ${after.state}`);
      return 0;
    },
  };
}

/** `tds review approve` and `tds review reject`. */
export const reviewApprove = reviewCommand('approve');
export const reviewReject = reviewCommand('reject');

