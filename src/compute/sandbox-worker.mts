/**
 * The program that runs inside the sandbox, one process per analysis. It
 * reads one JSON request on stdin (the file, DuckDB limits and the compiled,
 * parameterised queries), opens an in-memory DuckDB locked down in the order
 * that works (allowed_directories, then enable_external_access=false, then
 * lock_configuration=true: after that no query can widen what it may read),
 * runs the queries under a wall-clock limit enforced with
 * connection.interrupt(), and writes one JSON answer on stdout. It imports
 * nothing of tds so that the sandbox needs only node, this file and DuckDB.
 */
import { DuckDBInstance } from '@duckdb/node-api';

interface WorkerRequest {
  allowedDirectory: string;
  memoryLimit: string;
  threads: number;
  timeoutMs: number;
  queries: Array<{ sql: string; params: Record<string, string | number | boolean> }>;
}

type WorkerAnswer = { ok: true; results: unknown[][][] } | { ok: false; code: 'QUERY_TIMEOUT' | 'RESOURCE_LIMIT' | 'QUERY_FAILED' | 'DATASET_SCHEMA_MISMATCH'; message: string };

async function readStdin(): Promise<string> {
  const chunks: Buffer[] = [];
  for await (const c of process.stdin) chunks.push(c as Buffer);
  return Buffer.concat(chunks).toString('utf8');
}

function classify(message: string, timedOut: boolean): Extract<WorkerAnswer, { ok: false }>['code'] {
  if (timedOut || /interrupt/i.test(message)) return 'QUERY_TIMEOUT';
  if (/out of memory|memory limit/i.test(message)) return 'RESOURCE_LIMIT';
  if (/conversion error|could not convert|csv error|column .* not found|binder error|referenced column/i.test(message)) return 'DATASET_SCHEMA_MISMATCH';
  return 'QUERY_FAILED';
}

async function main(): Promise<WorkerAnswer> {
  const req = JSON.parse(await readStdin()) as WorkerRequest;
  const instance = await DuckDBInstance.create(':memory:', { threads: String(req.threads), memory_limit: req.memoryLimit });
  const conn = await instance.connect();
  // Quote the directory as a SQL string literal; it comes from the node, never from the consumer.
  await conn.run(`SET allowed_directories = ['${req.allowedDirectory.replaceAll("'", "''")}']`);
  await conn.run('SET autoinstall_known_extensions = false');
  await conn.run('SET autoload_known_extensions = false');
  await conn.run('SET enable_external_access = false');
  await conn.run('SET lock_configuration = true');
  let timedOut = false;
  const timer = setTimeout(() => {
    timedOut = true;
    conn.interrupt();
  }, req.timeoutMs);
  try {
    const results: unknown[][][] = [];
    for (const q of req.queries) {
      const reader = await conn.runAndReadAll(q.sql, q.params);
      results.push(reader.getRowsJson() as unknown[][]);
    }
    return { ok: true, results };
  } catch (e) {
    const message = e instanceof Error ? e.message : String(e);
    return { ok: false, code: classify(message, timedOut), message: message.slice(0, 2000) };
  } finally {
    clearTimeout(timer);
  }
}

main()
  .then((answer) => {
    process.stdout.write(`${JSON.stringify(answer)}\n`, () => process.exit(0));
  })
  .catch((e: unknown) => {
    process.stdout.write(`${JSON.stringify({ ok: false, code: 'QUERY_FAILED', message: String(e instanceof Error ? e.message : e).slice(0, 2000) })}\n`, () => process.exit(1));
  });
