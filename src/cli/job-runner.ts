/**
 * `tds job run`: the consumer's side of a release. Ask the service for a
 * job, download the dataset from the provider's gateway with the release
 * token, check size and SHA-256 while streaming (the URL is never trusted:
 * the digest in the signed contract is), run the analysis on the file, and
 * report the SHA-256 of its output so the ledger binds result to release.
 */
import fs from 'node:fs';
import { saveReceiptBeside } from './receipt-command.js';
import os from 'node:os';
import path from 'node:path';
import { spawn } from 'node:child_process';
import { createHash } from 'node:crypto';
import { Transform } from 'node:stream';
import { pipeline } from 'node:stream/promises';
import { httpGet, pemOrFile, readBody, type Release, type TdsClient } from '../client/tds-client.js';
import { problemOf } from '../client/problem-message.js';
import { addressProblem } from '../net/address-policy.js';
import { requireOption, stringOption, type CliIo, type CommandSpec } from './cli-args.js';

/** Exit status when the downloaded bytes do not match the release (the command is not run). */
export const EXIT_INTEGRITY = 3;

/** What `runJob` needs. */
export interface RunJobOptions {
  client: TdsClient;
  contractId: string;
  purpose: string;
  /** The command and its arguments; the dataset file path is appended. */
  command: string[];
  idempotencyKey?: string;
  /** PEM text or file of the CA that signed the gateway's certificate. */
  ca?: string;
  /** Where the dataset and result files go (default: a new temporary directory). */
  workDir?: string;
  /** Development mode (TDS_DEV_MODE=true): allow loopback and private gateway addresses. */
  allowPrivateAddresses?: boolean;
  io: CliIo;
}

/** The downloaded bytes are not the released ones. */
export class IntegrityError extends Error {
  override readonly name = 'IntegrityError';
}

/**
 * Stream the release to `file` (mode 0600), hashing and counting; abort as
 * soon as more bytes than declared arrive. Throws IntegrityError on a size
 * or digest mismatch, Error when the gateway refuses.
 */
export async function downloadRelease(release: Release, file: string, ca?: string, allowPrivateAddresses = false): Promise<{ bytes: number; sha256: string }> {
  if (!release.token) throw new Error('the job carries no release token');
  // A published name can resolve to anything later: the address connected to is checked, not the URL text.
  const res = await httpGet(release.url, { ca, headers: { authorization: `Bearer ${release.token}` }, timeoutMs: 60_000, ...(allowPrivateAddresses ? {} : { addressProblem }) });
  if (res.statusCode !== 200) {
    const p = problemOf(res.statusCode ?? 0, await readBody(res, 64 * 1024).catch(() => ''));
    throw new Error(`the gateway refused the download (${res.statusCode}) ${p.code}: ${p.detail}`.trim());
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

/**
 * Authorize, download, verify, run, report. Returns the command's exit
 * status (1 when it had none), or EXIT_INTEGRITY when the bytes did not
 * match (the command is then not run). The dataset file is deleted after
 * the run; the result file stays in the work directory.
 */
export async function runJob(opts: RunJobOptions): Promise<number> {
  const { client, io } = opts;
  if (opts.command.length === 0) throw new Error('no command to run');
  const job = await client.createJob({ contractId: opts.contractId, purpose: opts.purpose }, opts.idempotencyKey);
  io.out(`job ${job.id} authorized for dataset ${job.datasetId}`);
  const release = job.release;
  const protocol = new URL(release.url).protocol;
  if (protocol === 'http:') io.err('warning: the release URL is plain http (development mode only)');
  else if (protocol !== 'https:') throw new Error(`unsupported release URL scheme ${protocol}`);

  const workDir = opts.workDir ?? fs.mkdtempSync(path.join(os.tmpdir(), 'tds-job-'));
  fs.mkdirSync(workDir, { recursive: true, mode: 0o700 });
  const file = path.join(workDir, `${job.id}-${safeName(release.url)}`);
  let downloaded: string;
  try {
    const got = await downloadRelease(release, file, opts.ca ? pemOrFile(opts.ca) : undefined, opts.allowPrivateAddresses === true);
    io.out(`downloaded ${got.bytes} bytes, sha256 ${got.sha256} verified`);
    downloaded = got.sha256;
  } catch (e) {
    fs.rmSync(file, { force: true });
    if (e instanceof IntegrityError) {
      io.err(`integrity check failed for job ${job.id}: ${e.message}`);
      io.err('the file was deleted and the command was not run');
      return EXIT_INTEGRITY;
    }
    throw e;
  }

  const resultFile = path.join(workDir, `${job.id}.result`);
  const env = { ...process.env, TDS_DATASET_FILE: file, TDS_JOB_ID: job.id, TDS_CONTRACT_ID: opts.contractId, TDS_DATASET_SHA256: release.sha256 };
  let run: Awaited<ReturnType<typeof runCommand>>;
  try {
    run = await runCommand(opts.command, file, env, resultFile);
  } finally {
    // The release is for this run only: do not leave the data lying around.
    fs.rmSync(file, { force: true });
  }
  if (run.error) io.err(`the command could not run: ${run.error}`);
  // The digest of the bytes actually received: it shows the provider's contribution is real (reciprocity).
  await client.completeJob(job.id, { resultDigest: run.resultDigest, exitCode: run.exitCode, datasetSha256: downloaded });
  io.out(`job ${job.id} completed: exit ${run.exitCode}, resultDigest ${run.resultDigest}`);
  io.out(`result: ${resultFile} (${run.bytes} bytes)`);
  await saveReceiptBeside(client, job.id, workDir, io);
  return run.exitCode >= 0 ? run.exitCode : 1;
}

/** `tds job run`. */
export const jobRun: CommandSpec = {
  name: 'job run',
  synopsis: '--contract ID --purpose CODE [--idempotency-key K] [--ca PEM] [--work-dir DIR] -- <command> [args...]',
  summary: 'get a release, download and check the dataset, run the command on it, report the result digest',
  options: { contract: { type: 'string' }, purpose: { type: 'string' }, 'idempotency-key': { type: 'string' }, ca: { type: 'string' }, 'work-dir': { type: 'string' } },
  rest: true,
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
      allowPrivateAddresses,
      io,
    });
  },
};
