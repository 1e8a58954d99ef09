/**
 * Progress for long steps (a multi-GB download, hashing a large file,
 * verifying a long ledger): one line that overwrites itself on a terminal.
 * The sink is the io's `progress`, which exists only when stderr is a
 * terminal; without it the reporter does nothing, so scripts and logs get no
 * progress noise. Lines are throttled: a new one when the percentage grows,
 * or every `intervalMs` while bytes still arrive within one percent (a slow
 * connection), and always the final 100%.
 */

/** A byte count for people: decimal units, one decimal from kB up (`1.5 GB`). */
export function formatBytes(n: number): string {
  if (n < 1000) return `${n} B`;
  const units = ['kB', 'MB', 'GB', 'TB', 'PB'];
  let v = n;
  let u = -1;
  while (v >= 1000 && u < units.length - 1) {
    v /= 1000;
    u++;
  }
  return `${v.toFixed(1)} ${units[u]}`;
}

/** How a reporter counts and when it writes. */
export interface ProgressOptions {
  /** What is being done, e.g. `downloading cohort.csv`. */
  label: string;
  /** The amount when done (bytes or items). */
  total: number;
  /** `bytes` shows sizes (`1.2 GB of 2.9 GB`), `items` counts (`1000/5000`). */
  unit: 'bytes' | 'items';
  /** The longest silence while something still moves (default 250 ms). */
  intervalMs?: number;
  now?: () => number;
}

/** A function to call with the amount done so far; it writes to `sink` when a line is due (never without a sink). */
export function progressReporter(sink: ((line: string) => void) | undefined, opts: ProgressOptions): (done: number) => void {
  if (!sink) return () => {};
  const interval = opts.intervalMs ?? 250;
  const now = opts.now ?? Date.now;
  let lastPct = -1;
  let lastDone = -1;
  let lastAt = 0;
  return (done) => {
    const pct = opts.total <= 0 ? 100 : Math.min(100, Math.floor((done / opts.total) * 100));
    const t = now();
    if (pct <= lastPct && (done === lastDone || t - lastAt < interval)) return;
    lastPct = Math.max(pct, lastPct);
    lastDone = done;
    lastAt = t;
    const amount = opts.unit === 'bytes' ? `${formatBytes(done)} of ${formatBytes(opts.total)}` : `${done}/${opts.total}`;
    sink(`${opts.label}: ${pct}% (${amount})`);
  };
}
