/**
 * Command-line options of `npm run bench`, and the sizes each mode uses.
 * --quick is the under-two-minutes smoke version of the same measurements.
 */

/** Everything the run is parameterised by; recorded in the result file. */
export interface BenchOptions {
  quick: boolean;
  /** Serving processes (node:cluster workers when > 1). */
  workers: number;
  /** Concurrent connections of the job phases; the first in the list also sizes pgbench's headline. */
  connections: number[];
  /** Connection count the headline figures and targets use. */
  headlineConnections: number;
  durationS: number;
  warmupS: number;
  ledgerSize: number;
  appendSample: number;
  fillBlock: number;
  proofSamples: number;
  checkpointSamples: number;
  /** job.authorized entries of the statement phase (issue and verify one statement over them). */
  statementReleases: number;
  providers: number;
  consumers: number;
  contracts: number;
  /** Write V8 CPU profiles of the service and the verifier into bench/results/profiles and summarise them. */
  profile: boolean;
  /** Result file name (without extension) under bench/results. */
  out: string;
}

const USAGE = `usage: npm run bench -- [--quick] [--workers N] [--profile] [--out NAME]
  --quick       smaller run (100k-entry ledger, 3 s phases): under 2 minutes
  --workers N   serving processes; N > 1 runs the service under node:cluster (default 2)
  --profile     also write and summarise CPU profiles of the service and the verifier
  --out NAME    results file bench/results/NAME.json (default latest, or quick with --quick)`;

/** Parses argv (after the script name); throws with the usage text on anything unknown. */
export function parseOptions(argv: string[]): BenchOptions {
  let quick = false;
  let profile = false;
  let workers = 2;
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--workers') workers = Number(argv[++i]);
    else if (a === '--out') out = argv[++i];
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new Error(`--workers must be 1..16\n${USAGE}`);
  if (out !== undefined && !/^[\w.-]+$/.test(out)) throw new Error(`--out must be a plain file name\n${USAGE}`);
  const common = { quick, workers, profile, providers: 2, consumers: 8, contracts: 32, headlineConnections: 32, out: out ?? (quick ? 'quick' : 'latest') };
  return quick
    ? { ...common, connections: [32], durationS: 3, warmupS: 1, ledgerSize: 100_000, appendSample: 20_000, fillBlock: 40_000, proofSamples: 1000, checkpointSamples: 20, statementReleases: 20_000 }
    : { ...common, connections: [16, 32, 64], durationS: 10, warmupS: 3, ledgerSize: 1_000_000, appendSample: 100_000, fillBlock: 150_000, proofSamples: 3000, checkpointSamples: 50, statementReleases: 100_000 };
}
