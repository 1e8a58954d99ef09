/**
 * One load phase with autocannon. Every request comes from `next()` (so each
 * carries its own pre-signed, single-use token), every response is counted by
 * status, and 2xx latencies are recorded exactly from autocannon's per-response
 * timings rather than its whole-millisecond histogram.
 */
import autocannon from 'autocannon';
import { median, percentiles, round, type Percentiles } from './stats.js';

/** The request the next slot sends. */
export interface NextRequest {
  method: 'GET' | 'POST';
  path: string;
  headers: Record<string, string>;
  body?: string;
}

/** What one phase measured. */
export interface LoadResult {
  connections: number;
  durationS: number;
  /** Responses by status code. */
  statusCounts: Record<string, number>;
  /** Responses with the expected status (201 for jobs, 200 for proofs). */
  ok: number;
  /** Responses with any other status. */
  notOk: number;
  /** Connection errors and timeouts (no response at all). */
  errors: number;
  /** ok responses per second over the phase. */
  okPerSecond: number;
  /** Latency of the ok responses, ms. */
  latencyMs: Percentiles;
}

/** Options of one phase: a fixed duration, or a fixed number of requests. */
export interface LoadOptions {
  url: string;
  connections: number;
  durationS?: number;
  amount?: number;
  expectStatus: number;
  next: () => NextRequest;
}

/** Runs one autocannon phase and aggregates it. */
export async function runLoad(opts: LoadOptions): Promise<LoadResult> {
  return (await runLoadWithSamples(opts)).result;
}

/** runLoad, also returning every ok response's latency (ms), so that several rounds can be merged (mergeLoads). */
export async function runLoadWithSamples(opts: LoadOptions): Promise<{ result: LoadResult; latencies: number[] }> {
  const statusCounts: Record<string, number> = {};
  const latencies: number[] = [];
  let ok = 0;
  let notOk = 0;
  const result = await new Promise<autocannon.Result>((resolve, reject) => {
    const instance = autocannon(
      {
        url: opts.url,
        connections: opts.connections,
        ...(opts.amount !== undefined ? { amount: opts.amount } : { duration: opts.durationS ?? 10 }),
        timeout: 30,
        requests: [{ setupRequest: (req: autocannon.Request) => ({ ...req, ...opts.next() }) }],
      },
      (err: unknown, res: autocannon.Result) => (err ? reject(err instanceof Error ? err : new Error(String(err))) : resolve(res)),
    );
    // autocannon 9 emits (client, statusCode, bytes, responseTime); the typings omit the client.
    instance.on('response', (...args: unknown[]) => {
      const [status, , ms] = (typeof args[0] === 'number' ? args : args.slice(1)) as [number, number, number];
      statusCounts[status] = (statusCounts[status] ?? 0) + 1;
      if (status === opts.expectStatus) {
        ok++;
        latencies.push(ms);
      } else {
        notOk++;
      }
    });
  });
  const loaded: LoadResult = {
    connections: opts.connections,
    durationS: round(result.duration, 2),
    statusCounts,
    ok,
    notOk,
    errors: result.errors,
    okPerSecond: round(ok / result.duration, 1),
    latencyMs: percentiles(latencies),
  };
  return { result: loaded, latencies };
}

/**
 * Several rounds at one connection count as one figure: counts summed, the
 * rate the median of the rounds' rates (one round on a drifting machine does
 * not move it), latency percentiles over every response of every round.
 */
export function mergeLoads(rounds: Array<{ result: LoadResult; latencies: number[] }>): LoadResult & { roundRates: number[] } {
  if (rounds.length === 0) throw new RangeError('no rounds to merge');
  const statusCounts: Record<string, number> = {};
  for (const { result } of rounds) for (const [k, v] of Object.entries(result.statusCounts)) statusCounts[k] = (statusCounts[k] ?? 0) + v;
  const sum = (f: (r: LoadResult) => number): number => rounds.reduce((a, { result }) => a + f(result), 0);
  return {
    connections: rounds[0]!.result.connections,
    durationS: round(sum((r) => r.durationS), 2),
    statusCounts,
    ok: sum((r) => r.ok),
    notOk: sum((r) => r.notOk),
    errors: sum((r) => r.errors),
    okPerSecond: median(rounds.map(({ result }) => result.okPerSecond)),
    latencyMs: percentiles(rounds.flatMap(({ latencies }) => latencies)),
    roundRates: rounds.map(({ result }) => result.okPerSecond),
  };
}
