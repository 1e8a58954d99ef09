/** Drop the template and every per-file database of this run; stop the embedded server. */
import fs from 'node:fs';
import pg from 'pg';

export default async function globalTeardown(): Promise<void> {
  const adminUrl = process.env.TDS_TEST_ADMIN_URL;
  const template = process.env.TDS_TEST_TEMPLATE;
  if (adminUrl && template && !globalThis.__TDS_PG_STOP__) {
    const admin = new pg.Client({ connectionString: adminUrl });
    await admin.connect();
    const rows = await admin.query<{ datname: string }>(`SELECT datname FROM pg_database WHERE datname LIKE $1`, [`${template}%`]);
    for (const r of rows.rows) await admin.query(`DROP DATABASE IF EXISTS ${r.datname} WITH (FORCE)`);
    await admin.end();
  }
  await globalThis.__TDS_PG_STOP__?.();
  if (globalThis.__TDS_TMP__) fs.rmSync(globalThis.__TDS_TMP__, { recursive: true, force: true });
}
