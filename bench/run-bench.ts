/**
 * `npm run bench [-- --quick]`: one command from a fresh checkout. Starts a
 * PostgreSQL (embedded in a temp dir, or a fresh database on DATABASE_URL),
 * grows the ledger through the real sequencer and times appends, proofs and
 * offline verification, starts the built service as child process(es),
 * seeds participants and contracts over HTTP, drives job load with
 * autocannon, times checkpoints, runs pgbench's hot-path ceiling, then prints
 * the table and writes bench/results/<name>.json. Everything it started is
 * stopped and its temp dir removed, also on failure or Ctrl-C.
 */
import { spawn } from 'node:child_process';
import fs from 'node:fs';
import type pg from 'pg';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { createDataSource, openDatabase } from '../src/db/data-source.js';
import { entities } from '../src/services.js';
import { migrations } from '../migrations/index.js';
import { loadServiceKeys } from '../src/service-keys.js';
import { LedgerService } from '../src/ledger/ledger.service.js';
import { TokenSigner, operatorOf } from './client.js';
import { trackChild } from './children.js';
import { connectClient, openBenchDatabase } from './database.js';
import { measureJobs, type JobPhase } from './jobs-phase.js';
import { measureCompute } from './compute-phase.js';
import { measureBrowserVerify } from './browser-verify.js';
import { directProofLatency, growLedger } from './ledger-scale.js';
import { proofLatencyHttp, timeToCheckpoint } from './ledger-http.js';
import { parseOptions, type BenchOptions } from './options.js';
import { runPgbench } from './pgbench.js';
import { hotPathScript, jobPathBatchScript, jobPathScript, type PgbenchScript } from './pgbench-scripts.js';
import { profilesIn, summariseProfiles } from './profile.js';
import { measureSignatures } from './signature-micro.js';
import { machineInfo } from './report.js';
import { seed, seedRules } from './seed.js';
import { runMatrix } from './layout-matrix.js';
import { recordJobPath, type RecordedJob } from './job-path-recorder.js';
import { measureStatements } from './statements-phase.js';
import { measureWitnessing } from './witness-phase.js';
import { startService, type RunningService } from './service.js';
import { nowMs, round } from './stats.js';
import { speedProbe, type SpeedProbes } from './speed-probe.js';
import { ceilings, ratios, renderSummary, rulesCost, targets, type BenchResults, type VerifyFigures } from './summary.js';

/** Back-to-back (plain, rules) job loads of the full run's rules-cost figure. */
const RULES_PAIRS = 3;
const here = path.dirname(fileURLToPath(import.meta.url));
const root = path.resolve(here, '..', '..');
const ORIGIN = 'bench.tds.local/ledger';
/** The console's in-browser full verification is measured over this many entries (next to the CLI's, same entries). */
const BROWSER_VERIFY_ENTRIES = 100_000;
const log = (m: string): void => console.error(`[bench ${new Date().toISOString().slice(11, 19)}] ${m}`);

/** Runs verify-worker.js in its own process (large heap, optional profile) and returns what it printed. */
function runVerifyWorker(dbUrl: string, size: number, verifierKey: string, profileDir: string | null, cleanups: Array<() => Promise<void>>): Promise<VerifyFigures> {
  return new Promise((resolve, reject) => {
    // A heap large enough for a million parsed entries plus their bytes.
    const child = trackChild(spawn(process.execPath, ['--max-old-space-size=8192', path.join(here, 'verify-worker.js')], {
      env: { ...process.env, BENCH_DB_URL: dbUrl, BENCH_VERIFY_SIZE: String(size), BENCH_VERIFIER_KEY: verifierKey, BENCH_PROFILE_DIR: profileDir ?? '' },
      stdio: ['ignore', 'pipe', 'pipe'],
    }));
    // An interrupted run must not leave a worker hashing a million entries behind it.
    cleanups.push(async () => void (child.exitCode === null && child.signalCode === null && child.kill('SIGKILL')));
    let out = '';
    let err = '';
    child.stdout.on('data', (d) => (out += String(d)));
    child.stderr.on('data', (d) => (err += String(d)));
    child.on('error', reject);
    child.on('exit', (code) => {
      const last = out.trim().split('\n').pop() ?? '';
      if (code !== 0) return reject(new Error(`verify worker exited ${code}: ${err.slice(-1000)}`));
      try {
        resolve(JSON.parse(last) as VerifyFigures);
      } catch {
        reject(new Error(`verify worker printed no result: ${out.slice(-500)} ${err.slice(-500)}`));
      }
    });
  });
}

/**
 * The pgbench run of the batch replay `name` at the requests per release statement `phase` measured
 * (rounded; none below 2: the service then sent its requests alone, which job-path replays), one client:
 * the service runs one release statement at a time per path (release-batcher.ts).
 */
function batchReplay(name: 'job-path-batch' | 'job-path-rules-batch', recordings: RecordedJob[] | undefined, phase: JobPhase | undefined): Array<{ script: PgbenchScript; clients: number }> {
  const size = Math.round(phase?.releases?.requestsPerStatement ?? 0);
  if (!recordings || recordings.length === 0 || size < 2) return [];
  return [{ script: jobPathBatchScript(name, recordings, Math.min(size, recordings.length)), clients: 1 }];
}

async function main(opts: BenchOptions, cleanups: Array<() => Promise<void>>): Promise<number> {
  const started = nowMs();
  const phaseSeconds: Record<string, number> = {};
  const speedProbes: SpeedProbes = {};
  // The probes' own connection, opened once the database is up (speed-probe.ts).
  let probeDb: pg.Client | null = null;
  const errors: string[] = [];
  // A failed phase leaves its figures null and the run goes on: one broken figure must not hide the others.
  const phase = async <T>(name: string, fn: () => Promise<T>): Promise<T | null> => {
    // After Ctrl-C the cleanup owns the run: start nothing new it might miss.
    if (interrupted) throw new Error('interrupted');
    const before = probeDb ? await speedProbe(probeDb).catch(() => null) : null;
    const t0 = nowMs();
    log(`${name}…`);
    try {
      return await fn();
    } catch (e) {
      errors.push(`${name}: ${(e as Error).message.split('\n').slice(0, 3).join(' | ')}`);
      log(`${name} FAILED: ${(e as Error).stack ?? String(e)}`);
      return null;
    } finally {
      phaseSeconds[name] = round((nowMs() - t0) / 1000, 1);
      const after = probeDb ? await speedProbe(probeDb).catch(() => null) : null;
      if (before && after) speedProbes[name] = { before, after };
    }
  };

  const tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-bench-'));
  cleanups.push(async () => fs.rmSync(tmp, { recursive: true, force: true }));
  // As root the embedded cluster runs as the postgres user, which must be able to pass through.
  fs.chmodSync(tmp, 0o711);
  const resultsDir = path.join(root, 'bench', 'results');
  const profileDir = opts.profile ? path.join(resultsDir, 'profiles', opts.out) : null;
  if (profileDir) fs.rmSync(profileDir, { recursive: true, force: true });

  const db = await openBenchDatabase(path.join(tmp, 'pg'), process.env, log);
  cleanups.push(() => db.drop());
  log(`database ready (${db.source}): ${db.serverVersion.split(' on ')[0]}`);
  const probeClient = await connectClient(db.url);
  cleanups.push(async () => void (await probeClient.end().catch(() => undefined)));
  probeDb = probeClient;
  const dataDir = path.join(tmp, 'data');
  if (opts.matrix) return runMatrix(opts, db, { root, tmp, dataDir, resultsDir, origin: ORIGIN }, log, cleanups);
  const keys = await loadServiceKeys(dataDir);
  const ds = await openDatabase(createDataSource({ url: db.url, entities, migrations, poolSize: 4, applicationName: 'tds-bench' }));
  cleanups.push(async () => void (await ds.destroy().catch(() => undefined)));
  const ledger = new LedgerService(ds, { origin: ORIGIN, key: keys.ledger });

  const grown = await phase('ledger growth', () => growLedger(ds, ledger, { targetSize: opts.ledgerSize, sample: opts.appendSample, block: opts.fillBlock }, log));
  // Settle PostgreSQL's own write-back of the bulk load before the timed HTTP phases (needs superuser; optional).
  await ds.query('CHECKPOINT').catch(() => undefined);
  const treeSize = grown?.finalSize ?? (await ledger.treeSize());
  const direct = treeSize > 0 ? await phase('direct proofs', () => directProofLatency(ledger, treeSize, opts.proofSamples)) : null;
  const verify = grown
    ? await phase('offline verify', async () => {
      const v = await runVerifyWorker(db.url, grown.checkpointAtTarget.size, ledger.verifierKey(), profileDir && path.join(profileDir, 'verify'), cleanups);
      if (!v.ok || !v.bareRootMatches || v.bareOneShotRootMatches === false) throw new Error(`verification did not succeed: ${JSON.stringify(v)}`);
      log(`verify ${v.entries}: ${v.verifyMs} ms vs bare ${v.bareMs} ms (×${v.ratio}), vs one-shot bare ${v.bareOneShotMs} ms (×${v.ratioOneShot})`);
      return v;
    })
    : null;

  const witnessing = await phase('witnessing', () => measureWitnessing(ds, keys, ORIGIN, { samples: opts.quick ? 30 : 200, mineSamples: opts.quick ? 100 : 1000 }, log));
  const statements = await phase('statements', () => measureStatements(db.url, keys, opts.statementReleases, log));

  const signatures = await phase('Ed25519', async () => {
    const f = measureSignatures(opts.quick ? 2000 : 5000);
    log(`Ed25519 verify / sign: libsodium ${f.libsodium.verifyUs} / ${f.libsodium.signUs} µs, node:crypto ${f.openssl.verifyUs} / ${f.openssl.signUs} µs`);
    return f;
  });

  const svc: RunningService | null = await phase('service start', () =>
    startService({ databaseUrl: db.url, dataDir, workers: opts.workers, poolSize: opts.poolSize ?? undefined, ledgerOrigin: ORIGIN, nodeFlags: profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.join(profileDir, 'service')}`] : [] }),
  );
  if (!svc) throw new Error(`the service did not start: ${errors.join('; ')}`);
  cleanups.push(() => svc.stop(5000));
  const seeded = await phase('seeding', () => seed(svc.base, operatorOf(dataDir), opts));
  if (!seeded) throw new Error(`seeding failed: ${errors.join('; ')}`);
  log(`seeded ${seeded.providers.length} providers, ${seeded.consumers.length} consumers, ${seeded.contracts.length} contracts`);
  const rulesContracts = await phase('seeding with rules', () => seedRules(svc.base, seeded.operator, seeded.providers, { consumers: opts.consumers, contracts: opts.contracts }));
  const http = await phase('HTTP proofs', async () => {
    const r = await proofLatencyHttp(svc.base, seeded.operator, treeSize, opts.proofSamples);
    log(`HTTP proofs: p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-200 ${r.notOk}`);
    return r;
  });
  const browserVerify = await phase('browser verify', () => measureBrowserVerify(svc.base, db.url, seeded.operator.signer, ledger.verifierKey(), BROWSER_VERIFY_ENTRIES, log));
  const jobs = await phase('job load', () => measureJobs(svc, seeded.contracts, { connections: opts.connections, durationS: opts.jobRoundS, warmupS: opts.warmupS, rounds: opts.jobRounds }, log));
  // The same load on contracts whose dataset is governed by reciprocity rules: what the rules cost.
  const jobsRules = rulesContracts
    ? await phase('job load with rules', async () => (await measureJobs(svc, rulesContracts, { ...opts, connections: [opts.headlineConnections] }, log)).phases)
    : null;
  // What the rules cost, measured as back-to-back pairs (plain, then rules) so that the machine's drift between
  // phases, as large as the difference sought, falls on both.
  const pairs = rulesContracts && jobs && !opts.quick
    ? await phase('rules cost, paired', async () => {
        const one = { ...opts, connections: [opts.headlineConnections] };
        const out: Array<{ plain: number; withRules: number }> = [];
        for (let i = 0; i < RULES_PAIRS; i++) {
          const plain = (await measureJobs(svc, seeded.contracts, one, log)).phases[0]!.okPerSecond;
          const withRules = (await measureJobs(svc, rulesContracts, one, log)).phases[0]!.okPerSecond;
          out.push({ plain, withRules });
          log(`rules cost pair ${i + 1}/${RULES_PAIRS}: plain ${plain} jobs/s, rules ${withRules} jobs/s`);
        }
        return out;
      })
    : null;
  const ttc = await phase('time to checkpoint', () => timeToCheckpoint(svc.base, db.url, new TokenSigner(seeded.operator.signer), seeded.contracts, opts.checkpointSamples, log));
  await phase('service stop', () => svc.stop());
  // What the service sends for one job, recorded from its own code (in this process, the service stopped), for the replay.
  const recordOn = async (contracts: typeof seeded.contracts): Promise<RecordedJob[]> => recordJobPath({ databaseUrl: db.url, dataDir, ledgerOrigin: ORIGIN, contracts });
  const recorded = await phase('recording the job path', async () => ({ plain: await recordOn(seeded.contracts), rules: rulesContracts ? await recordOn(rulesContracts) : [] }));
  if (recorded) log(`job path: ${recorded.plain[0]?.first.length ?? '?'} statements per job, ${recorded.rules[0]?.first.length ?? '?'} with rules`);
  const hot = hotPathScript(opts.contracts);
  const runs = [
    ...opts.connections.map((clients) => ({ script: hot, clients })),
    { script: jobPathScript('job-path', recorded?.plain ?? []), clients: opts.headlineConnections },
    { script: jobPathScript('job-path-rules', recorded?.rules ?? []), clients: opts.headlineConnections },
    // The batches the service sent at the headline load, at its own size and one statement at a time (release-batcher.ts).
    ...batchReplay('job-path-batch', recorded?.plain, jobs?.phases.find((p) => p.connections === opts.headlineConnections)),
    ...batchReplay('job-path-rules-batch', recorded?.rules, jobsRules?.[0]),
  ];
  const pgbench = await phase('pgbench', () => runPgbench(db.url, { runs, durationS: opts.durationS, workDir: tmp }, log));
  const compute = await phase('compute at the node', () => measureCompute(tmp, { rows: opts.quick ? 100_000 : 1_000_000, samples: opts.quick ? 3 : 5 }, log));

  const profiles: BenchResults['profiles'] = {};
  if (profileDir) {
    for (const name of ['service', 'verify']) {
      const files = profilesIn(path.join(profileDir, name));
      if (files.length > 0) profiles[name] = summariseProfiles(files);
    }
  }
  const partial: Omit<BenchResults, 'targets'> = {
    quick: opts.quick,
    options: opts,
    machine: machineInfo(root, db.serverVersion),
    database: { source: db.source, version: db.serverVersion },
    serviceProcesses: svc.workers,
    jobs: jobs && { warmup: jobs.warmup, phases: jobs.phases },
    jobsWithRules: jobsRules,
    jobPath: recorded && {
      statementsPerJob: recorded.plain[0]?.first.length ?? null,
      statementsPerJobWithRules: recorded.rules[0]?.first.length ?? null,
      statements: recorded.plain[0]?.first.map((st) => st.text.replace(/\s+/g, ' ').trim().slice(0, 120)) ?? [],
      statementsWithRules: recorded.rules[0]?.first.map((st) => st.text.replace(/\s+/g, ' ').trim().slice(0, 120)) ?? [],
    },
    memory: jobs?.memory ?? null,
    pgbench,
    ratios: jobs ? ratios(jobs.phases, pgbench) : [],
    ceilings: jobs ? ceilings(jobs.phases, jobsRules, pgbench, opts.headlineConnections) : [],
    rulesCost: jobs ? rulesCost(jobs.phases, jobsRules, pairs ?? undefined) : null,
    timeToCheckpoint: ttc,
    signatures,
    compute,
    verify,
    statements,
    witnessing,
    browserVerify,
    proofs: { treeSize, http, direct },
    append: grown && { targetSize: grown.targetSize, appendAtZero: grown.appendAtZero, appendAtTarget: grown.appendAtTarget, fillBlocks: grown.fillBlocks, queueFillMs: grown.queueFillMs, finalSize: grown.finalSize },
    profiles,
    phaseSeconds,
    speedProbes,
    totalSeconds: round((nowMs() - started) / 1000, 1),
    errors,
  };
  const results: BenchResults = { ...partial, targets: targets(partial) };
  const summary = renderSummary(results);
  fs.mkdirSync(resultsDir, { recursive: true });
  fs.writeFileSync(path.join(resultsDir, `${opts.out}.json`), `${JSON.stringify(results, null, 2)}\n`);
  fs.writeFileSync(path.join(resultsDir, `${opts.out}.txt`), `${summary}\n`);
  console.log(summary);
  log(`wrote bench/results/${opts.out}.json and .txt`);
  return errors.length > 0 ? 1 : 0;
}

/** Runs the cleanups newest first; each failure is reported but does not stop the others. */
async function cleanUp(cleanups: Array<() => Promise<void>>): Promise<void> {
  while (cleanups.length > 0) {
    const fn = cleanups.pop()!;
    await fn().catch((e: unknown) => log(`cleanup: ${(e as Error).message}`));
  }
}

let opts: BenchOptions;
try {
  opts = parseOptions(process.argv.slice(2));
} catch (e) {
  console.error((e as Error).message);
  process.exit(2);
}
const cleanups: Array<() => Promise<void>> = [];
let interrupted = false;
for (const sig of ['SIGINT', 'SIGTERM'] as const) {
  process.on(sig, () => {
    if (interrupted) return;
    interrupted = true;
    log(`${sig}: cleaning up`);
    // Whatever the interrupted phase still throws must not stop the cleanup half-way.
    process.on('uncaughtException', (e) => log(`during cleanup: ${e.message}`));
    process.on('unhandledRejection', (e) => log(`during cleanup: ${String(e)}`));
    void cleanUp(cleanups).finally(() => process.exit(130));
  });
}
let code = 1;
try {
  code = await main(opts, cleanups);
} catch (e) {
  log(`benchmark failed: ${(e as Error).stack ?? String(e)}`);
} finally {
  await cleanUp(cleanups);
}
process.exit(code);
