/**
 * The service under node:cluster: the primary forks TDS_BENCH_WORKERS workers
 * that each run the unchanged entry point (dist/src/main.js) and share its
 * port, so the benchmark can use more than the one core a Node process gets.
 * The first worker runs the migrations and creates the operator before the
 * others start, so they never race on the schema. SIGTERM/SIGINT are passed
 * on to the workers (each stops cleanly, flushing the ledger); the primary
 * exits when they have.
 */
import cluster, { type Worker } from 'node:cluster';

async function primary(): Promise<void> {
  const count = Math.max(1, Number(process.env.TDS_BENCH_WORKERS ?? '1') || 1);
  let stopping = false;
  const workers: Worker[] = [];
  const fork = (): Promise<void> =>
    new Promise((resolve, reject) => {
      const w = cluster.fork();
      workers.push(w);
      w.once('listening', () => resolve());
      w.once('exit', (code) => {
        if (stopping) return;
        // A worker dying under load would silently halve the figures: fail loudly instead.
        console.error(`tds bench cluster: worker ${w.process.pid} exited (${code}) unexpectedly`);
        reject(new Error('worker exited'));
        stopping = true;
        for (const o of workers) o.process.kill('SIGTERM');
        process.exitCode = 1;
      });
    });
  const stop = (): void => {
    if (stopping) return;
    stopping = true;
    for (const w of workers) w.process.kill('SIGTERM');
  };
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  await fork();
  for (let i = 1; i < count; i++) await fork();
  console.log(`tds bench cluster: ${count} worker(s) listening`);
}

if (cluster.isPrimary) {
  primary().catch((e: unknown) => {
    console.error('tds bench cluster: start-up failed:', e);
    process.exitCode = 1;
  });
} else {
  await import('../src/main.js');
}
