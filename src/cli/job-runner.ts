/**
 * `tds job run`: the consumer's side of a release. Ask the service for a
 * job, download the dataset from the provider's gateway with the release
 * token, check size and SHA-256 while streaming (the URL is never trusted:
 * the digest in the signed contract is), run the analysis on the file, save
 * its output (or, without a command, the verified dataset) to `--out`, and
 * report the SHA-256 of that output so the ledger binds result to release.
 * A download the gateway refused, or bytes that do not match, are reported
 * as the job's failure (POST /v1/jobs/:id/fail).
 */
import fs from 'node:fs';
import { saveReceiptBeside } from './receipt-command.js';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpGet, pemOrFile, readBody, type TdsClient } from '../client/tds-client.js';
import type { ReleaseView } from '../jobs/release-token.js';
import { networkErrorMessage, problemOf } from '../client/problem-message.js';
import { addressProblem } from '../net/address-policy.js';
import { requireOption, stringOption, type CliIo, type CommandSpec } from './cli-args.js';
import { progressReporter } from './progress.js';

/** Exit status when the downloaded bytes do not match the release (the command is not run). */
export const EXIT_INTEGRITY = 3;

/** What `runJob` needs. */
export interface RunJobOptions {
  client: TdsClient;
  contractId: string;
  purpose: string;
  /** The command and its arguments; the dataset file path is appended. Empty: the output is the verified dataset itself. */
  command: string[];
  /** Where the output goes (default: ./<job>.result with a command, ./<job>-<file name> without). */
  out?: string;
  /** Replace an existing --out file. */
  force?: boolean;
  idempotencyKey?: string;
  /** PEM text or file of the CA that signed the gateway's certificate. */
  ca?: string;
  /** Where the dataset is kept while the command runs (default: a new temporary directory). */
  workDir?: string;
  /** Development mode (TDS_DEV_MODE=true): allow loopback and private gateway addresses. */
  allowPrivateAddresses?: boolean;
  io: CliIo;
}

/** The gateway answered the download with a refusal (a problem with a code). */
export class GatewayRefusal extends Error {
  override readonly name = 'GatewayRefusal';
}

/** The downloaded bytes are not the released ones. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/** A failed download in one line, with what usually fixes it (a CA for the gateway, dev mode for local gateways). */
function downloadFailure(url: string, e: unknown, ca: string | undefined): string {
  const message = (e as Error)?.message ?? String(e);
  if (message.startsWith('refusing ')) {
    return `${message} (a release is only fetched from public addresses; for local trials set TDS_DEV_MODE=true, never in production)`;
  }
  const origin = new URL(url).origin;
  return `the gateway ${networkErrorMessage(origin, e, { caHint: ca ? `the certificate given with --ca ${ca} does not vouch for this gateway` : 'pass the gateway\'s CA or its self-signed certificate with --ca FILE' })}`;
}

/**
 * Stream the release to `file` (mode 0600), hashing and counting; abort as
 * soon as more bytes than declared arrive. Throws IntegrityError on a size
 * or digest mismatch, Error when the gateway refuses. `onBytes` is told the
 * bytes received so far after every chunk (progress).
 */
export async function downloadRelease(release: ReleaseView, file: string, ca?: string, allowPrivateAddresses = false, onBytes?: (bytes: number) => void): Promise<{ bytes: number; sha256: string }> {
  if (!release.token) throw new Error('the job carries no release token');
  // A published name can resolve to anything later: the address connected to is checked, not the URL text.
  let res: Awaited<ReturnType<typeof httpGet>>;
  try {
    res = await httpGet(release.url, { ca, headers: { authorization: `Bearer ${release.token}` }, timeoutMs: 60_000, ...(allowPrivateAddresses ? {} : { addressProblem }) });
  } catch (e) {
    throw new Error(downloadFailure(release.url, e, ca), { cause: e });
  }
  if (res.statusCode !== 200) {
    const p = problemOf(res.statusCode ?? 0, await readBody(res, 64 * 1024).catch(() => ''));
    throw new GatewayRefusal(`the gateway refused the download (${res.statusCode}) ${p.code}: ${p.detail}`.trim());
  }
  const announced = Number(res.headers['content-length']);
  if (Number.isFinite(announced) && announced > release.byteSize) {
    res.destroy();
    throw new IntegrityError(`the gateway announces ${announced} bytes; the release says ${release.byteSize}`);
  }
  const hash = createHash('sha256');
  let bytes = 0;
  const meter = new Transform({
    transform(chunk: Buffer, _enc, done) {
      bytes += chunk.length;
      if (bytes > release.byteSize) return done(new IntegrityError(`more than the released ${release.byteSize} bytes arrived`));
      hash.update(chunk);
      onBytes?.(bytes);
      done(null, chunk);
    },
  });
  await pipeline(res, meter, fs.createWriteStream(file, { mode: 0o600, flags: 'wx' }));
  const sha256 = hash.digest('hex');
  if (bytes !== release.byteSize) throw new IntegrityError(`received ${bytes} bytes; the release says ${release.byteSize}`);
  if (sha256 !== release.sha256) throw new IntegrityError(`received bytes with sha256 ${sha256}; the release says ${release.sha256}`);
  return { bytes, sha256 };
}

/** Run the command with the file appended; stdout goes to `resultFile` and is hashed. */
async function runCommand(command: string[], file: string, env: NodeJS.ProcessEnv, resultFile: string): Promise<{ exitCode: number; resultDigest: string; bytes: number; error?: string }> {
  const child = spawn(command[0]!, [...command.slice(1), file], { stdio: ['ignore', 'pipe', 'inherit'], env });
  const hash = createHash('sha256');
  let bytes = 0;
  child.stdout.on('data', (chunk: Buffer) => {
    hash.update(chunk);
    bytes += chunk.length;
  });
  const exited = new Promise<{ code: number | null; error?: string }>((resolve) => {
    child.once('error', (e) => resolve({ code: null, error: e.message }));
    child.once('close', (code) => resolve({ code }));
  });
  const [, result] = await Promise.all([pipeline(child.stdout, fs.createWriteStream(resultFile, { mode: 0o600 })).catch(() => undefined), exited]);
  // A signal or a command that never started has no exit status: -1 in the ledger.
  return { exitCode: result.code ?? -1, resultDigest: hash.digest('hex'), bytes, ...(result.error ? { error: result.error } : {}) };
}

function safeName(url: string): string {
  let base: string;
  try {
    base = path.basename(decodeURIComponent(new URL(url).pathname));
  } catch {
    base = '';
  }
  return base.replace(/[^A-Za-z0-9._-]/g, '_').replace(/^\.+/, '').slice(0, 100) || 'dataset';
}

/** Refuse an output path that exists (unless force) or whose folder does not. */
function checkOutput(out: string, force: boolean): void {
  if (fs.existsSync(out) && !force) throw new Error(`${out} exists: pass --force to replace it, or choose another --out`);
  if (!fs.existsSync(path.dirname(path.resolve(out)))) throw new Error(`the folder of ${out} does not exist`);
}

/** Move a finished temporary file to `out`: never over an existing file unless `force` (link fails on an existing name). */
function publishOutput(tmp: string, out: string, force: boolean): void {
  if (force) {
    fs.renameSync(tmp, out);
    return;
  }
  try {
    fs.linkSync(tmp, out);
  } catch (e) {
    throw new Error(`could not save the output as ${out} (${(e as Error).message}); it is kept in ${tmp}`, { cause: e });
  }
  fs.rmSync(tmp, { force: true });
}

/** A temporary name beside `out`, so the final rename stays on one file system. */
const partialBeside = (out: string, jobId: string) => path.join(path.dirname(path.resolve(out)), `.${path.basename(out)}.${jobId}.partial`);

/** Report the job as failed (the gateway refused or the bytes did not match); a failure to report is only a warning. */
async function reportFailure(client: TdsClient, jobId: string, reason: string, io: CliIo): Promise<void> {
  try {
    await client.failJob(jobId, reason.slice(0, 1000));
    io.err(`job ${jobId} reported as failed (the invocation stays used)`);
  } catch (e) {
    io.err(`warning: could not report the failure of job ${jobId}: ${(e as Error).message}`);
  }
}

/**
 * Authorize, download, verify, run, save, report. Returns the command's exit
 * status (1 when it had none), or EXIT_INTEGRITY when the bytes did not
 * match (the command is then not run and the job is reported failed). The
 * dataset file is deleted after the run; the output goes to `out` (never over
 * an existing file unless `force`) and the release receipt beside it.
 */
export async function runJob(opts: RunJobOptions): Promise<number> {
  const { client, io } = opts;
  const force = opts.force === true;
  // Checked before the release: a name we could not write must not cost an invocation.
  if (opts.out !== undefined) checkOutput(opts.out, force);
  const job = await client.createJob({ contractId: opts.contractId, purpose: opts.purpose }, opts.idempotencyKey);
  io.out(`job ${job.id} authorized for dataset ${job.datasetId}`);
  const release = job.release;
  const protocol = new URL(release.url).protocol;
  if (protocol === 'http:') io.err('warning: the release URL is plain http (development mode only)');
  else if (protocol !== 'https:') throw new Error(`unsupported release URL scheme ${protocol}`);
  const downloadOnly = opts.command.length === 0;
  const out = opts.out ?? (downloadOnly ? `${job.id}-${safeName(release.url)}` : `${job.id}.result`);
  // An idempotent retry answers the same job, so the default name may exist: nothing was downloaded yet, the token is unused.
  if (opts.out === undefined) checkOutput(out, force);

  const workDir = downloadOnly ? path.dirname(path.resolve(out)) : (opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tds-job-')));
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const file = downloadOnly ? partialBeside(out, job.id) : path.join(workDir, `${job.id}-${safeName(release.url)}`);
  let downloaded: string;
  try {
    // On a terminal: `downloading cohort.csv: 42% (1.2 GB of 2.9 GB)`, overwritten in place (nothing without one).
    const progress = progressReporter(io.progress, { label: `downloading ${safeName(release.url)}`, total: release.byteSize, unit: 'bytes' });
    progress(0);
    const got = await downloadRelease(release, file, opts.ca ? pemOrFile(opts.ca) : undefined, opts.allowPrivateAddresses === true, progress);
    io.out(`downloaded ${got.bytes} bytes, sha256 ${got.sha256} verified`);
    downloaded = got.sha256;
  } catch (e) {
    fs.rmSync(file, { force: true });
    if (e instanceof IntegrityError) {
      io.err(`integrity check failed for job ${job.id}: ${e.message}`);
      io.err('the file was deleted and the command was not run');
      await reportFailure(client, job.id, `integrity check failed: ${e.message}`, io);
      return EXIT_INTEGRITY;
    }
    // The gateway answered and refused: the job cannot run. No answer at all (address refused, network): the
    // token was not used, so the job stays authorized and the same --idempotency-key can retry it.
    if (e instanceof GatewayRefusal) await reportFailure(client, job.id, e.message, io);
    throw e;
  }

  if (downloadOnly) {
    publishOutput(file, out, force);
    await client.completeJob(job.id, { resultDigest: release.sha256, datasetSha256: downloaded });
    io.out(`job ${job.id} completed: dataset saved, resultDigest ${release.sha256}`);
    io.out(`output: ${out} (${release.byteSize} bytes)`);
    await saveReceiptBeside(client, job.id, path.dirname(path.resolve(out)), io);
    return 0;
  }

  const partial = partialBeside(out, job.id);
  const env = { ...process.env, TDS_DATASET_FILE: file, TDS_JOB_ID: job.id, TDS_CONTRACT_ID: opts.contractId, TDS_DATASET_SHA256: release.sha256 };
  let run: Awaited<ReturnType<typeof runCommand>>;
  try {
    run = await runCommand(opts.command, file, env, partial);
  } finally {
    // The release is for this run only: do not leave the data lying around.
    fs.rmSync(file, { force: true });
  }
  if (run.error) io.err(`the command could not run: ${run.error}`);
  // Created meanwhile by someone else: the error says where ours is kept.
  publishOutput(partial, out, force);
  // The digest of the bytes actually received: it shows the provider's contribution is real (reciprocity).
  await client.completeJob(job.id, { resultDigest: run.resultDigest, exitCode: run.exitCode, datasetSha256: downloaded });
  io.out(`job ${job.id} completed: exit ${run.exitCode}, resultDigest ${run.resultDigest}`);
  io.out(`output: ${out} (${run.bytes} bytes)`);
  await saveReceiptBeside(client, job.id, path.dirname(path.resolve(out)), io);
  return run.exitCode >= 0 ? run.exitCode : 1;
}

/** `tds job run`. */
export const jobRun: CommandSpec = {
  name: 'job run',
  synopsis: '--contract ID --purpose CODE [--out PATH] [--force] [--idempotency-key K] [--ca PEM] [--work-dir DIR] [-- <command> [args...]]',
  summary: 'get a release, download and check the dataset, run the command on it (or just keep the file), save the output to --out, report its digest',
  options: {
    contract: { type: 'string' }, purpose: { type: 'string' }, 'idempotency-key': { type: 'string' }, ca: { type: 'string' }, 'work-dir': { type: 'string' },
    out: { type: 'string' }, force: { type: 'boolean' },
  },
  rest: 'optional',
  run: async ({ p, io, client }) => {
    const contractId = requireOption(p, 'contract');
    const allowPrivateAddresses = io.env.TDS_DEV_MODE === 'true';
    const purpose = requireOption(p, 'purpose');
    return runJob({
      client: await client(),
      contractId,
      purpose,
      command: p.rest,
      idempotencyKey: stringOption(p, 'idempotency-key'),
      ca: stringOption(p, 'ca'),
      workDir: stringOption(p, 'work-dir'),
      out: stringOption(p, 'out'),
      force: p.values.force === true,
      allowPrivateAddresses,
      io,
    });
  },
};

/** `tds job fail`: report by hand that a download job could not run (the invocation stays used). */
export const jobFail: CommandSpec = {
  name: 'job fail',
  synopsis: '<jobId> --reason TEXT',
  summary: 'consumer: report that a download job could not run (state failed, ledger job.failed; the invocation stays used)',
  options: { reason: { type: 'string' } },
  positionals: [1, 1],
  run: async ({ p, io, client, settings }) => {
    const failed = await (await client()).failJob(p.positionals[0]!, requireOption(p, 'reason'));
    if (settings.json) io.out(JSON.stringify(failed));
    else io.out(`job ${failed.id}: failed${failed.releaseConfirmed ? ' (the provider\'s gateway had confirmed the release)' : ''}`);
    return 0;
  },
};
