/**
 * The result document of a run and its human form: the table of figures and
 * the targets with PASS/MISS. Kept apart from the orchestration so the shape
 * of bench/results/*.json is defined in one place.
 */
import type { SignatureFigures } from './signature-micro.js';
import type { StatementFigures } from './statements-phase.js';
import type { WitnessFigures } from './witness-phase.js';
import type { BenchOptions } from './options.js';
import type { JobPhase, MemoryFigures } from './jobs-phase.js';
import type { PgbenchResult } from './pgbench.js';
import type { CheckpointLatency } from './ledger-http.js';
import type { LoadResult } from './load.js';
import type { AppendRate, LedgerScaleResult } from './ledger-scale.js';
import type { HotFunction } from './profile.js';
import type { BrowserVerifyFigures } from './browser-verify.js';
import { table, target, type MachineInfo, type TargetCheck } from './report.js';
import { median, round, type Percentiles } from './stats.js';
import type { SpeedProbe, SpeedProbes } from './speed-probe.js';
import { computeRows, type ComputeFigures } from './compute-phase.js';

/** What verify-worker prints. */
export interface VerifyFigures {
  entries: number;
  ok: boolean;
  problem: string | null;
  bareRootMatches: boolean;
  interiorHashes: number;
  verifyMs: number;
  /** The bare loop with createHash per call (the figure's baseline since the first run). */
  bareMs: number;
  ratio: number;
  /** The stricter baseline: one-shot hash() and reused buffers (bench/bare-sha.ts). */
  bareOneShotMs?: number;
  ratioOneShot?: number;
  bareOneShotRootMatches?: boolean;
  /** The verify time was taken under the profiler (slower): compare ratios only between unprofiled runs. */
  profiled: boolean;
  loadMs: number;
  parseMs: number;
  canonicalMb: number;
  heapUsedMb: number;
}

/** The whole result file. Figures that could not be measured are null, with the reason in `errors`. */
export interface BenchResults {
  quick: boolean;
  options: BenchOptions;
  machine: MachineInfo;
  database: { source: string; version: string };
  serviceProcesses: number;
  jobs: { warmup: LoadResult; phases: JobPhase[] } | null;
  /** The same job load (headline connections) on contracts governed by reciprocity rules (give-to-get and minimum-contribution). */
  jobsWithRules?: JobPhase[] | null;
  /** What the service sends per job, as recorded for the replay (statement texts shortened). */
  jobPath?: { statementsPerJob: number | null; statementsPerJobWithRules: number | null; statements: string[]; statementsWithRules: string[] } | null;
  /**
   * The service against its own SQL: jobs/s ÷ tps of the pgbench replay of the
   * statements it sends per job (same connections). 1.0 would mean the
   * service adds nothing the database does not already spend per job.
   */
  /**
   * jobs/s at the headline connections ÷ the jobs/s a pgbench replay of the service's own SQL allows
   * (tps × jobs per transaction): one job per statement (job-path*), and the batch statements at the
   * service's own requests per statement (job-path*-batch).
   */
  ceilings?: Array<{
    run: 'plain' | 'rules'; script: string; connections: number; replayClients: number; jobsPerTransaction: number;
    jobsPerSecond: number; replayTps: number | null; replayJobsPerSecond: number | null; ofCeiling: number | null;
  }>;
  /**
   * Jobs/s with rules ÷ without at the headline connections, and the cost (1 − that) in %: medians over
   * `pairs` (plain then rules, back to back, several times) when measured so, else the two single phases.
   */
  rulesCost?: { connections: number; plain: number; withRules: number; costPercent: number; pairs?: Array<{ plain: number; withRules: number }> } | null;
  memory: MemoryFigures | null;
  pgbench: PgbenchResult[] | null;
  /** authorizations/s ÷ pgbench tps at the same connection count. */
  ratios: Array<{ connections: number; jobsPerSecond: number; pgbenchTps: number | null; ratio: number | null }>;
  timeToCheckpoint: CheckpointLatency | null;
  /** Ed25519 µs per verification and signature: the service's path (libsodium) and node:crypto. */
  signatures?: SignatureFigures | null;
  /** Grouped aggregate at the data node vs bare DuckDB (CSV and Parquet). */
  compute?: ComputeFigures | null;
  verify: VerifyFigures | null;
  /** Issue and verify one statement over many releases. */
  statements: StatementFigures | null;
  /** Entry -> checkpoint with 2 witness cosignatures, and /ledger/mine at the grown size. */
  witnessing?: WitnessFigures | null;
  /** The console's full verification in Chromium next to the CLI's verifyLog, same entries. */
  browserVerify?: BrowserVerifyFigures | null;
  proofs: { treeSize: number; http: LoadResult | null; direct: Percentiles | null } | null;
  append: Omit<LedgerScaleResult, 'checkpointAtTarget'> | null;
  targets: TargetCheck[];
  profiles: Record<string, HotFunction[]>;
  phaseSeconds: Record<string, number>;
  /** The machine probes before and after each phase (speed-probe.ts: CPU task, SELECT 1 round trips, busy autovacuum workers). */
  speedProbes?: SpeedProbes;
  totalSeconds: number;
  errors: string[];
}

/** The hot-path pgbench run at a client count, if it ran. */
function hotPath(pgbench: PgbenchResult[] | null, clients: number): PgbenchResult | undefined {
  return pgbench?.find((p) => p.script === 'hot-path' && p.clients === clients);
}

/** authorizations/s ÷ hot-path pgbench tps for every connection count that has both. */
export function ratios(jobs: JobPhase[], pgbench: PgbenchResult[] | null): BenchResults['ratios'] {
  return jobs.map((j) => {
    const pb = hotPath(pgbench, j.connections);
    const tps = pb && pb.available ? pb.tps : null;
    return { connections: j.connections, jobsPerSecond: j.okPerSecond, pgbenchTps: tps, ratio: tps ? round(j.okPerSecond / tps, 3) : null };
  });
}

/** jobs/s ÷ the pgbench replay of the service's own SQL (job-path, job-path-rules) at the same connections. */
export function ceilings(jobs: JobPhase[], withRules: JobPhase[] | null | undefined, pgbench: PgbenchResult[] | null, headline: number): NonNullable<BenchResults['ceilings']> {
  const out: NonNullable<BenchResults['ceilings']> = [];
  for (const pb of pgbench ?? []) {
    const run = REPLAYS[pb.script];
    if (!pb.available || !run) continue;
    const j = (run === 'plain' ? jobs : withRules ?? []).find((x) => x.connections === headline);
    if (!j) continue;
    const replayJobs = pb.tps * pb.jobsPerTransaction;
    out.push({
      run, script: pb.script, connections: j.connections, replayClients: pb.clients, jobsPerTransaction: pb.jobsPerTransaction, jobsPerSecond: j.okPerSecond,
      replayTps: pb.tps, replayJobsPerSecond: round(replayJobs, 1), ofCeiling: replayJobs > 0 ? round(j.okPerSecond / replayJobs, 3) : null,
    });
  }
  return out;
}

/** The replays of the service's own SQL, by pgbench script, and the job phase each is the ceiling of. */
const REPLAYS: Record<string, 'plain' | 'rules' | undefined> = { 'job-path': 'plain', 'job-path-rules': 'rules', 'job-path-batch': 'plain', 'job-path-rules-batch': 'rules' };

/** What the rules cost at the headline connections: jobs/s with rules against the plain phase. */
export function rulesCost(jobs: JobPhase[], withRules: JobPhase[] | null | undefined, pairs?: Array<{ plain: number; withRules: number }>): BenchResults['rulesCost'] {
  const r = withRules?.[0];
  const p = r && jobs.find((j) => j.connections === r.connections);
  if (!r || !p || p.okPerSecond <= 0) return null;
  if (pairs && pairs.length > 0) {
    // Back-to-back pairs share the machine's drift; single 10 s phases differ by ±15 % on their own.
    const plain = median(pairs.map((x) => x.plain));
    const ruled = median(pairs.map((x) => x.withRules));
    return { connections: r.connections, plain, withRules: ruled, costPercent: round(100 * (1 - ruled / plain), 1), pairs };
  }
  return { connections: r.connections, plain: p.okPerSecond, withRules: r.okPerSecond, costPercent: round(100 * (1 - r.okPerSecond / p.okPerSecond), 1) };
}

/**
 * The fewest connections whose plain job load reaches 90 % of the run's peak
 * jobs/s: where the latency target is read (a closed loop's latency grows
 * with its connections once throughput has levelled off).
 */
export function kneePhase(phases: JobPhase[]): JobPhase | undefined {
  const peak = Math.max(0, ...phases.map((p) => p.okPerSecond));
  return [...phases].sort((a, b) => a.connections - b.connections).find((p) => p.okPerSecond >= 0.9 * peak);
}

/** The targets of the issue, evaluated on the headline connection count (latency: at the knee). */
export function targets(r: Omit<BenchResults, 'targets'>): TargetCheck[] {
  const head = r.jobs?.phases.find((p) => p.connections === r.options.headlineConnections) ?? r.jobs?.phases[0];
  const ratio = r.ratios.find((x) => x.connections === head?.connections)?.ratio;
  const size = r.proofs?.treeSize;
  const knee = kneePhase(r.jobs?.phases ?? []);
  return [
    target(`job authorizations/s ÷ pgbench tps (c=${head?.connections ?? '?'})`, ratio, '', '≥ 0.3', (v) => v >= 0.3, ratio === null ? 'pgbench unavailable' : undefined),
    target(`job p99 latency at ≥ 90 % of peak jobs/s (c=${knee?.connections ?? '?'})`, knee?.latencyMs.p99, 'ms', '≤ 25', (v) => v <= 25),
    target(`jobs/s lost to reciprocity rules (c=${r.rulesCost?.connections ?? '?'})`, r.rulesCost?.costPercent, '%', '≤ 10', (v) => v <= 10),
    target('time to checkpoint p99', r.timeToCheckpoint?.ms.p99, 'ms', '≤ 1000', (v) => v <= 1000),
    target('entry -> checkpoint with 2 witness cosignatures p99', r.witnessing?.cosignedMs.p99, 'ms', '≤ 1000', (v) => v <= 1000),
    target(`verifyLog ÷ bare SHA-256 loop (${r.verify?.entries ?? '?'} entries)`, r.verify?.ratio, '×', '≤ 2', (v) => v <= 2),
    target(`inclusion proof p99 over HTTP (${size ?? '?'} entries)`, r.proofs?.http?.latencyMs.p99, 'ms', '≤ 5', (v) => v <= 5),
    target('peak RSS per service process', r.memory?.peakRssMbPerProcess, 'MB', '≤ 300', (v) => v <= 300),
  ];
}

const fmt = (v: number | null | undefined, digits = 1): string | null => (v === null || v === undefined ? null : String(round(v, digits)));

// How the phase's authorizations went to PostgreSQL: requests per release statement (release-batcher.ts).
function releasesRow(p: JobPhase, tag = ''): Array<string | null> {
  const x = p.releases;
  return [`  requests per release statement${tag}`, fmt(x?.requestsPerStatement, 2), x ? `${x.single} alone, ${x.batches} batches carrying ${x.batchedRequests}, ${x.fallbacks} batches run request by request` : 'not counted (several serving processes, or /metrics off)'];
}

/** The printed report: figures, then targets. */
export function renderSummary(r: BenchResults): string {
  const rows: Array<Array<string | number | null>> = [];
  for (const p of r.jobs?.phases ?? []) {
    const ratio = r.ratios.find((x) => x.connections === p.connections);
    rows.push([`job authorizations/s (c=${p.connections}, ${r.serviceProcesses} proc)`, fmt(p.okPerSecond), `201: ${p.ok}, non-2xx: ${p.notOk}, errors: ${p.errors}, live-signed: ${p.tokensSignedLive}`]);
    rows.push([`  latency p50 / p95 / p99 (c=${p.connections})`, `${fmt(p.latencyMs.p50)} / ${fmt(p.latencyMs.p95)} / ${fmt(p.latencyMs.p99)} ms`, `max ${fmt(p.latencyMs.max)} ms`]);
    const c = p.cpuMsPerJob;
    rows.push([`  CPU ms/job service / postgres / loadgen`, `${fmt(c.service, 2)} / ${fmt(c.postgres, 2)} / ${fmt(c.loadGenerator, 2)}`, `machine ${fmt(p.cpu.machineBusyPercent)} % busy`]);
    rows.push(releasesRow(p));
    rows.push([`  pgbench hot path tps (c=${p.connections})`, fmt(ratio?.pgbenchTps), ratio?.ratio !== null && ratio?.ratio !== undefined ? `ratio ${ratio.ratio}` : 'ratio —']);
  }
  for (const p of r.jobsWithRules ?? []) {
    const cost = r.rulesCost;
    const costText = cost ? (cost.pairs ? `; medians of ${cost.pairs.length} back-to-back pairs: ${fmt(cost.withRules)} vs plain ${fmt(cost.plain)}/s, ${cost.costPercent} % below` : `; ${cost.costPercent} % below the plain ${fmt(cost.plain)}/s`) : '';
    rows.push([`job authorizations/s with reciprocity rules (c=${p.connections})`, fmt(p.okPerSecond), `201: ${p.ok}, non-2xx: ${p.notOk}, errors: ${p.errors}; give-to-get + minimum-contribution${costText}`]);
    rows.push([`  latency p50 / p95 / p99 (rules, c=${p.connections})`, `${fmt(p.latencyMs.p50)} / ${fmt(p.latencyMs.p95)} / ${fmt(p.latencyMs.p99)} ms`, `max ${fmt(p.latencyMs.max)} ms`]);
    const c = p.cpuMsPerJob;
    rows.push([`  CPU ms/job service / postgres / loadgen (rules)`, `${fmt(c.service, 2)} / ${fmt(c.postgres, 2)} / ${fmt(c.loadGenerator, 2)}`, `machine ${fmt(p.cpu.machineBusyPercent)} % busy`]);
    rows.push(releasesRow(p, ' (rules)'));
  }
  for (const pb of r.pgbench ?? []) {
    if (!pb.available) rows.push([`pgbench ${pb.script} (c=${pb.clients})`, null, pb.reason]);
    else if (REPLAYS[pb.script]) {
      const run = REPLAYS[pb.script]!;
      const jobsPerS = pb.tps * pb.jobsPerTransaction;
      const pgMs = pb.cpu.postgresCores === null ? null : (pb.cpu.postgresCores * 1000) / jobsPerS;
      const ceiling = r.ceilings?.find((x) => x.script === pb.script);
      const what = pb.jobsPerTransaction > 1
        ? `the service's batch statement${run === 'rules' ? ' under rules' : ''}, ${pb.jobsPerTransaction} jobs each (its requests per statement): ${fmt(jobsPerS)} jobs/s`
        : `the service's ${(run === 'plain' ? r.jobPath?.statementsPerJob : r.jobPath?.statementsPerJobWithRules) ?? '?'} statements per job${run === 'rules' ? ' under rules' : ''}, one job each`;
      rows.push([`pgbench ${pb.script} replay tps (c=${pb.clients})`, fmt(pb.tps), `${what}; postgres ${fmt(pgMs, 2)} CPU ms/job`]);
      rows.push([`  CEILING: jobs/s ÷ replay jobs/s (${pb.script})`, ceiling?.ofCeiling === null || ceiling === undefined ? null : String(ceiling.ofCeiling), ceiling ? `${fmt(ceiling.jobsPerSecond)} jobs/s (c=${ceiling.connections}) of the ${fmt(jobsPerS)} its own SQL allows` : 'no job phase at the headline connections']);
    }
  }
  const t = r.timeToCheckpoint;
  const sg = r.signatures;
  rows.push(['Ed25519 verify / sign per op (service path)', sg ? `${fmt(sg.libsodium.verifyUs)} / ${fmt(sg.libsodium.signUs)} µs` : null, sg ? `libsodium; node:crypto (OpenSSL) KeyObject ${fmt(sg.openssl.verifyUs)} / ${fmt(sg.openssl.signUs)} µs; median of ${sg.rounds} × ${sg.ops}` : '']);
  rows.push(['time to checkpoint p50 / p99', t ? `${fmt(t.ms.p50, 0)} / ${fmt(t.ms.p99, 0)} ms` : null, t ? `${t.samples} samples, background ~${t.backgroundJobsPerSecond} jobs/s` : '']);
  const v = r.verify;
  rows.push([`offline verify (${v?.entries ?? '?'} entries)`, v ? `${fmt(v.verifyMs / 1000, 2)} s vs bare ${fmt(v.bareMs / 1000, 2)} s` : null, v ? `ratio ${v.ratio}${v.ratioOneShot !== undefined ? ` (vs one-shot bare ${fmt((v.bareOneShotMs ?? 0) / 1000, 2)} s: ${v.ratioOneShot})` : ''}, ok=${v.ok}, bare roots match=${v.bareRootMatches && v.bareOneShotRootMatches !== false}` : '']);
  const st = r.statements;
  rows.push([`statement issue / verify (${st?.releases ?? '?'} releases)`, st ? `${fmt(st.issueMs / 1000, 2)} / ${fmt((st.evidenceMs + st.verifyMs) / 1000, 2)} s` : null, st ? `verify = ${fmt(st.evidenceMs / 1000, 2)} s proven entries + ${fmt(st.verifyMs / 1000, 2)} s check, ok=${st.ok}` : '']);
  const w = r.witnessing;
  rows.push(['entry -> checkpoint with 2 cosignatures p50 / p99', w ? `${fmt(w.cosignedMs.p50, 0)} / ${fmt(w.cosignedMs.p99, 0)} ms` : null, w ? `${w.cosignedMs.count} samples, two witnesses on loopback HTTP, real sequencer and cosigning loops` : '']);
  rows.push([`/ledger/mine direct p50 / p99 (${w?.mine.treeSize ?? '?'})`, w ? `${fmt(w.mine.ms.p50, 2)} / ${fmt(w.mine.ms.p99, 2)} ms` : null, w ? `page of ${w.mine.pageSize} with proofs, party with ${w.mine.partyEntries} entries spread over the log; LedgerService.entriesOfParty` : '']);
  const bv = r.browserVerify;
  rows.push([`console verify in Chromium (${bv?.entries ?? '?'} entries)`, bv ? `${bv.browserEntriesPerSecond} entries/s` : null, bv ? `worker ${fmt(bv.browserVerifyMs / 1000, 2)} s (${fmt(bv.browserTotalMs / 1000, 2)} s with fetching), ok=${bv.ok}, Chromium ${bv.chromium}` : '']);
  rows.push([`CLI verifyLog, same entries`, bv ? `${bv.cliEntriesPerSecond} entries/s` : null, bv ? `${fmt(bv.cliVerifyMs / 1000, 2)} s; browser ÷ CLI rate ${round(bv.browserEntriesPerSecond / bv.cliEntriesPerSecond, 2)}` : '']);
  const pr = r.proofs;
  rows.push([`inclusion proof HTTP p50 / p99 (${pr?.treeSize ?? '?'})`, pr?.http ? `${fmt(pr.http.latencyMs.p50, 2)} / ${fmt(pr.http.latencyMs.p99, 2)} ms` : null, pr?.http ? `${pr.http.ok} × 200, ${pr.http.notOk} other` : '']);
  rows.push([`inclusion proof direct p50 / p99 (${pr?.treeSize ?? '?'})`, pr?.direct ? `${fmt(pr.direct.p50, 2)} / ${fmt(pr.direct.p99, 2)} ms` : null, 'LedgerService.inclusionProof']);
  const a = r.append;
  const appendDetail = (x: AppendRate): string => `${x.entries} entries; CPU sequencer ${x.cpu.benchCores} / postgres ${fmt(x.cpu.postgresCores, 2)} cores`;
  rows.push(['append rate at 0', a ? `${a.appendAtZero.entriesPerSecond} entries/s` : null, a ? appendDetail(a.appendAtZero) : '']);
  rows.push([`append rate at ${a?.appendAtTarget.existingEntries ?? '?'}`, a ? `${a.appendAtTarget.entriesPerSecond} entries/s` : null, a ? appendDetail(a.appendAtTarget) : '']);
  rows.push(...computeRows(r.compute));
  const m = r.memory;
  rows.push(['peak RSS per process / total', m ? `${fmt(m.peakRssMbPerProcess)} / ${fmt(m.peakRssMbTotal)} MB` : null, m ? `${m.processes} serving process(es), VmHWM` : '']);
  const out = [
    `tds benchmark ${r.quick ? '(--quick) ' : ''}— ${r.machine.date}`,
    `${r.machine.cpuCount} × ${r.machine.cpuModel}, ${r.machine.totalMemoryGb} GB, ${r.machine.os}, Node ${r.machine.node}`,
    `${r.machine.postgres.split(' on ')[0]} (${r.database.source}); commit ${r.machine.gitCommit?.slice(0, 12) ?? 'unknown'}${r.machine.gitDirty ? ' (dirty)' : ''}`,
    '',
    table(['figure', 'value', 'detail'], rows),
    '',
    table(['target', 'value', 'limit', 'status'], r.targets.map((x) => [x.name, x.value === null ? null : `${x.value} ${x.unit}`.trim(), x.limit, x.status + (x.note ? ` (${x.note})` : '')])),
  ];
  for (const [name, fns] of Object.entries(r.profiles)) {
    out.push('', `CPU profile, ${name} (self time):`, ...fns.map((f) => `  ${String(f.selfPercent).padStart(5)} %  ${f.fn}`));
  }
  const probes = Object.entries(r.speedProbes ?? {});
  if (probes.length > 0) {
    const text = (x: SpeedProbe): string =>
      `${x.cpuMs} / ${x.roundTripMs.p50} / ${x.roundTripMs.p99}${x.autovacuum.length ? ` [${x.autovacuum.map((q) => q.replace(/^autovacuum: /, '')).join('; ')}]` : ''}`;
    out.push('', 'machine speed before → after each phase (bench/speed-probe.ts): CPU probe ms (8 MiB SHA-256, best of 3) / SELECT 1 round trip p50 / p99 ms [autovacuum workers busy]');
    out.push(...probes.map(([k, x]) => `  ${k}: ${text(x.before)} → ${text(x.after)}`));
  }
  if (r.errors.length > 0) out.push('', 'errors:', ...r.errors.map((e) => `  ${e}`));
  out.push('', `total ${r.totalSeconds} s (${Object.entries(r.phaseSeconds).map(([k, s]) => `${k} ${s} s`).join(', ')})`);
  return out.join('\n');
}
