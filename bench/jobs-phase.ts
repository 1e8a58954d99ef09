/**
 * Figure 1 (job authorizations/s and latency) and figure 7 (peak RSS): POST
 * /v1/jobs through the whole path with autocannon, tokens signed before each
 * timed phase so the load generator measures the service, not its own
 * signing. A warm-up phase (not reported) lets the JIT and pools settle and
 * gives the rate used to size the token stock of the timed phases.
 */
import { memoryOf, type RunningService } from './service.js';
import { meanCpu, msPerOp, startCpuMeter, type CpuUse } from './cpu.js';
import { mergeLoads, runLoad, runLoadWithSamples, type LoadResult, type NextRequest } from './load.js';
import { BENCH_PURPOSE, type SeededContract } from './seed.js';
import { nowMs, round } from './stats.js';

/** One timed phase, how many of its tokens had to be signed during the phase (ideally 0), and where the CPU went. */
export interface JobPhase extends LoadResult {
  tokensPresigned: number;
  tokensSignedLive: number;
  presignMs: number;
  cpu: CpuUse;
  /** CPU milliseconds per authorized job: service processes, PostgreSQL, load generator. */
  cpuMsPerJob: { service: number | null; postgres: number | null; loadGenerator: number | null };
  /**
   * The release statements the service ran during the phase (its /metrics, summed over all rounds): how
   * many went alone, how many carried several requests and how many requests those carried, and the
   * requests per statement. Null with several serving processes (a scrape reaches one of them).
   */
  releases: ReleaseCounts | null;
}

/** Counts of the service's release statements (tds_release_statements_total, tds_release_batched_requests_total). */
export interface ReleaseCounts {
  single: number;
  batches: number;
  batchedRequests: number;
  fallbacks: number;
  /** (single + batchedRequests) ÷ (single + batches). */
  requestsPerStatement: number | null;
}

// Sums a counter's samples over its labels in a Prometheus text exposition, by the value of `label` (or '' without it).
function counterSamples(text: string, name: string, label: string): Map<string, number> {
  const out = new Map<string, number>();
  const sample = new RegExp(`^${name}(?:\\{([^}]*)\\})? ([0-9.e+-]+)$`);
  const labelValue = new RegExp(`${label}="([^"]*)"`);
  for (const line of text.split('\n')) {
    const m = sample.exec(line);
    if (!m) continue;
    const key = labelValue.exec(m[1] ?? '')?.[1] ?? '';
    out.set(key, (out.get(key) ?? 0) + Number(m[2]));
  }
  return out;
}

/** The service's release statement counters now, summed over paths; null when /metrics does not answer them. */
export async function readReleaseCounts(base: string): Promise<Omit<ReleaseCounts, 'requestsPerStatement'> | null> {
  const res = await fetch(`${base}/metrics`).catch(() => null);
  if (!res || res.status !== 200) return null;
  const text = await res.text();
  const kinds = counterSamples(text, 'tds_release_statements_total', 'kind');
  if (kinds.size === 0) return null;
  const batched = [...counterSamples(text, 'tds_release_batched_requests_total', 'path').values()].reduce((a, b) => a + b, 0);
  return { single: kinds.get('single') ?? 0, batches: kinds.get('batch') ?? 0, batchedRequests: batched, fallbacks: kinds.get('fallback') ?? 0 };
}

/** `after` − `before`, summed over rounds, with the requests per statement. */
export function releaseCountsOf(deltas: Array<Omit<ReleaseCounts, 'requestsPerStatement'> | null>): ReleaseCounts | null {
  if (deltas.length === 0 || deltas.some((d) => d === null)) return null;
  const sum = deltas.reduce<Omit<ReleaseCounts, 'requestsPerStatement'>>((a, d) => ({
    single: a.single + d!.single, batches: a.batches + d!.batches, batchedRequests: a.batchedRequests + d!.batchedRequests, fallbacks: a.fallbacks + d!.fallbacks,
  }), { single: 0, batches: 0, batchedRequests: 0, fallbacks: 0 });
  const statements = sum.single + sum.batches;
  return { ...sum, requestsPerStatement: statements > 0 ? round((sum.single + sum.batchedRequests) / statements, 2) : null };
}

function minus(a: Omit<ReleaseCounts, 'requestsPerStatement'> | null, b: Omit<ReleaseCounts, 'requestsPerStatement'> | null): Omit<ReleaseCounts, 'requestsPerStatement'> | null {
  if (!a || !b) return null;
  return { single: a.single - b.single, batches: a.batches - b.batches, batchedRequests: a.batchedRequests - b.batchedRequests, fallbacks: a.fallbacks - b.fallbacks };
}

/** Peak memory of the serving processes, MB. */
export interface MemoryFigures {
  processes: number;
  /** Highest VmHWM (kernel-recorded peak RSS) of any one serving process. */
  peakRssMbPerProcess: number | null;
  /** Sum of the processes' VmHWM: an upper bound of the service's total. */
  peakRssMbTotal: number | null;
  /** Highest sum of VmRSS seen by sampling every 200 ms during the load. */
  sampledRssMbTotal: number | null;
}

/** A stock of ready requests for POST /v1/jobs, spread round-robin over the contracts. */
export class JobRequests {
  #stock: NextRequest[] = [];
  #pos = 0;
  #turn = 0;
  #live = 0;

  constructor(private readonly contracts: SeededContract[]) {}

  #make(): NextRequest {
    const c = this.contracts[this.#turn++ % this.contracts.length];
    return {
      method: 'POST',
      path: '/v1/jobs',
      headers: { authorization: `Bearer ${c.consumer.token('POST', '/v1/jobs')}`, 'content-type': 'application/json' },
      body: JSON.stringify({ contractId: c.contractId, purpose: BENCH_PURPOSE }),
    };
  }

  /** Replaces the stock with n freshly signed requests (old ones would be nearer their expiry); returns ms taken. */
  presign(n: number): number {
    const t0 = nowMs();
    this.#stock = Array.from({ length: n }, () => this.#make());
    this.#pos = 0;
    this.#live = 0;
    return nowMs() - t0;
  }

  /** The next request: from the stock, or signed on the spot when the stock ran out (counted). */
  next = (): NextRequest => {
    if (this.#pos < this.#stock.length) return this.#stock[this.#pos++];
    this.#live++;
    return this.#make();
  };

  /** Requests signed during the phase because the stock was too small. */
  get signedLive(): number {
    return this.#live;
  }
}

/** Samples the memory of the serving processes until stopped. */
function memorySampler(svc: RunningService): { stop(): MemoryFigures } {
  let maxSum = 0;
  const pids = new Set<number>();
  const sample = (): void => {
    let sum = 0;
    for (const pid of svc.servingPids()) {
      pids.add(pid);
      sum += memoryOf(pid)?.rssMb ?? 0;
    }
    maxSum = Math.max(maxSum, sum);
  };
  sample();
  const timer = setInterval(sample, 200);
  return {
    stop: () => {
      clearInterval(timer);
      sample();
      const hwm = [...pids].map((p) => memoryOf(p)?.hwmMb).filter((m): m is number => m !== undefined && Number.isFinite(m));
      return {
        processes: pids.size,
        peakRssMbPerProcess: hwm.length ? round(Math.max(...hwm), 1) : null,
        peakRssMbTotal: hwm.length ? round(hwm.reduce((a, b) => a + b, 0), 1) : null,
        sampledRssMbTotal: maxSum > 0 ? round(maxSum, 1) : null,
      };
    },
  };
}

/**
 * Runs the warm-up, then `rounds` rounds of one timed phase per connection
 * count, ascending in even rounds and descending in odd ones, so the
 * machine's drift over the run (±20 % between 10 s windows on the 2-core
 * machine) falls on every connection count alike instead of bending the
 * curve the knee is read from. Each connection count's phase is its rounds
 * merged (mergeLoads: median rate, latency over all responses; CPU over all
 * rounds). Returns the phases in ascending order and the memory figures.
 */
export async function measureJobs(
  svc: RunningService,
  contracts: SeededContract[],
  opts: { connections: number[]; durationS: number; warmupS: number; rounds?: number },
  log: (m: string) => void,
): Promise<{ warmup: LoadResult; phases: JobPhase[]; memory: MemoryFigures }> {
  const requests = new JobRequests(contracts);
  const url = `${svc.base}/v1/jobs`;
  const mem = memorySampler(svc);
  const rounds = opts.rounds ?? 1;
  const ascending = [...opts.connections].sort((a, b) => a - b);
  try {
    // Sized for a generous guess; the warm-up's own rate sizes the timed phases.
    requests.presign(Math.ceil(4000 * opts.warmupS));
    const warmup = await runLoad({ url, connections: Math.max(...opts.connections), durationS: opts.warmupS, expectStatus: 201, next: requests.next });
    log(`warm-up: ${warmup.okPerSecond} jobs/s, ${warmup.notOk} non-201`);
    const runs = new Map<number, Array<{ result: LoadResult; latencies: number[]; cpu: CpuUse; presigned: number; presignMs: number; releases: Omit<ReleaseCounts, 'requestsPerStatement'> | null }>>();
    const countsNow = async () => (svc.servingPids().length > 1 ? null : readReleaseCounts(svc.base));
    let best = Math.max(warmup.okPerSecond, 500);
    for (let round = 0; round < rounds; round++) {
      for (const connections of round % 2 === 0 ? ascending : [...ascending].reverse()) {
        const n = Math.ceil(best * opts.durationS * 1.8) + connections * 4;
        const presignMs = requests.presign(n);
        const tag = rounds > 1 ? `c=${connections} (round ${round + 1}/${rounds})` : `c=${connections}`;
        log(`${tag}: ${n} tokens pre-signed in ${Math.round(presignMs)} ms; running ${opts.durationS} s`);
        const countsBefore = await countsNow();
        const meter = startCpuMeter(() => svc.servingPids());
        const run = await runLoadWithSamples({ url, connections, durationS: opts.durationS, expectStatus: 201, next: requests.next });
        const cpu = meter.stop();
        const releases = minus(await countsNow(), countsBefore);
        const r = run.result;
        best = Math.max(best, r.okPerSecond);
        runs.set(connections, [...(runs.get(connections) ?? []), { ...run, cpu, presigned: n, presignMs, releases }]);
        log(`${tag}: CPU service ${cpu.serviceCores} cores, postgres ${cpu.postgresCores}, bench ${cpu.benchCores}, machine ${cpu.machineBusyPercent} % busy`);
        log(`${tag}: ${r.okPerSecond} jobs/s, p50 ${r.latencyMs.p50} ms, p99 ${r.latencyMs.p99} ms, non-201 ${r.notOk}, errors ${r.errors}`);
      }
    }
    const phases: JobPhase[] = ascending.map((connections) => {
      const of = runs.get(connections)!;
      const merged = mergeLoads(of);
      const cpu = meanCpu(of.map((x) => x.cpu));
      // CPU per job over all rounds: mean cores over the mean rate (total jobs ÷ total time).
      const rate = merged.ok / merged.durationS;
      const cpuMsPerJob = { service: msPerOp(cpu.serviceCores, rate), postgres: msPerOp(cpu.postgresCores, rate), loadGenerator: msPerOp(cpu.benchCores, rate) };
      const presignMs = round(of.reduce((a, x) => a + x.presignMs, 0), 0);
      const phase: JobPhase = { ...merged, tokensPresigned: of.reduce((a, x) => a + x.presigned, 0), tokensSignedLive: requests.signedLive, presignMs, cpu, cpuMsPerJob, releases: releaseCountsOf(of.map((x) => x.releases)) };
      if (rounds > 1) log(`c=${connections}: median ${merged.okPerSecond} jobs/s of rounds ${merged.roundRates.join(', ')}; p99 ${merged.latencyMs.p99} ms over ${merged.ok} responses`);
      return phase;
    });
    return { warmup, phases, memory: mem.stop() };
  } catch (e) {
    mem.stop();
    throw e;
  }
}
