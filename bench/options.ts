/**
 * Command-line options of `npm run bench`, and the sizes each mode uses.
 * --quick is the under-two-minutes smoke version of the same measurements.
 */

/** Everything the run is parameterised by; recorded in the result file. */
export interface BenchOptions {
  quick: boolean;
  /** Serving processes, TDS_WORKERS of the service (node:cluster workers behind a primary when > 1). */
  workers: number;
  /** TDS_DB_POOL_SIZE of each serving process; null: the service's default. */
  poolSize: number | null;
  /** --matrix: only the layout matrix (workers × pool size), job load and replay. */
  matrix: boolean;
  matrixWorkers: number[];
  matrixPools: number[];
  matrixRounds: number;
  /** Concurrent connections of the job phases; the first in the list also sizes pgbench's headline. */
  connections: number[];
  /** Connection count the headline figures and targets use. */
  headlineConnections: number;
  /** Seconds of pgbench runs and of the rules-cost pairs. */
  durationS: number;
  /** The job-load curve: rounds of one phase per connection count, each this long (measureJobs). */
  jobRounds: number;
  jobRoundS: number;
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

const USAGE = `usage: npm run bench -- [--quick] [--workers N] [--pool N] [--matrix] [--profile] [--out NAME]
  --quick       smaller run (100k-entry ledger, 3 s phases): under 2 minutes
  --workers N   serving processes (TDS_WORKERS); N > 1: a primary and N node:cluster workers (default 1, the service's)
  --pool N      TDS_DB_POOL_SIZE of each serving process (default: the service's)
  --matrix      only the layout matrix: job load for every workers × pool size, then the replay
  --matrix-workers LIST, --matrix-pools LIST, --matrix-rounds N   the matrix (default 1,2,3 × 5,10,20, 3 rounds; 1 with --quick)
  --profile     also write and summarise CPU profiles of the service and the verifier
  --out NAME    results file bench/results/NAME.json (default latest, or quick with --quick)`;

/** Parses argv (after the script name); throws with the usage text on anything unknown. */
export function parseOptions(argv: string[]): BenchOptions {
  let quick = false;
  let profile = false;
  let workers = 1;
  let poolSize: number | null = null;
  let matrix = false;
  let matrixWorkers = [1, 2, 3];
  let matrixPools = [5, 10, 20];
  let matrixRounds: number | undefined;
  const list = (v: string | undefined, what: string): number[] => {
    const xs = (v ?? '').split(',').map(Number);
    if (xs.length === 0 || xs.some((x) => !Number.isInteger(x) || x < 1 || x > 64)) throw new Error(`${what} must be a comma-separated list of 1..64\n${USAGE}`);
    return xs;
  };
  let out: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i];
    if (a === '--quick') quick = true;
    else if (a === '--profile') profile = true;
    else if (a === '--workers') workers = Number(argv[++i]);
    else if (a === '--pool') poolSize = Number(argv[++i]);
    else if (a === '--matrix') matrix = true;
    else if (a === '--matrix-workers') matrixWorkers = list(argv[++i], '--matrix-workers');
    else if (a === '--matrix-pools') matrixPools = list(argv[++i], '--matrix-pools');
    else if (a === '--matrix-rounds') matrixRounds = Number(argv[++i]);
    else if (a === '--out') out = argv[++i];
    else if (a === '--help' || a === '-h') throw new Error(USAGE);
    else throw new Error(`unknown argument ${a}\n${USAGE}`);
  }
  if (!Number.isInteger(workers) || workers < 1 || workers > 16) throw new Error(`--workers must be 1..16\n${USAGE}`);
  if (poolSize !== null && (!Number.isInteger(poolSize) || poolSize < 1 || poolSize > 500)) throw new Error(`--pool must be 1..500\n${USAGE}`);
  if (matrixRounds !== undefined && (!Number.isInteger(matrixRounds) || matrixRounds < 1 || matrixRounds > 20)) throw new Error(`--matrix-rounds must be 1..20\n${USAGE}`);
  if (out !== undefined && !/^[\w.-]+$/.test(out)) throw new Error(`--out must be a plain file name\n${USAGE}`);
  const common = {
    quick, workers, poolSize, profile, providers: 2, consumers: 8, contracts: 32, headlineConnections: 32,
    matrix, matrixWorkers, matrixPools, matrixRounds: matrixRounds ?? (quick ? 1 : 3),
    out: out ?? (matrix ? (quick ? 'matrix-quick' : 'matrix') : quick ? 'quick' : 'latest'),
  };
  return quick
    ? { ...common, connections: [32], durationS: 3, jobRounds: 1, jobRoundS: 3, warmupS: 1, ledgerSize: 100_000, appendSample: 20_000, fillBlock: 40_000, proofSamples: 1000, checkpointSamples: 20, statementReleases: 20_000 }
    : { ...common, connections: [4, 8, 16, 32, 64], durationS: 10, jobRounds: 3, jobRoundS: 5, warmupS: 3, ledgerSize: 1_000_000, appendSample: 100_000, fillBlock: 150_000, proofSamples: 3000, checkpointSamples: 50, statementReleases: 100_000 };
}
