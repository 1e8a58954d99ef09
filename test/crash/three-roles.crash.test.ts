/**
 * The three roles and the operator through the INSTALLED `tds` only: the
 * repository is packed (`npm pack`, after the build `npm run test:crash`
 * runs) and the tarball installed into a temporary prefix; every step is that
 * prefix's `node_modules/.bin/tds`, run as a separate process in the role's
 * own folder (its cwd and HOME). The service is the installed package's
 * dist/src/main.js as a separate process. Ids are read from the CLI's own
 * output (`--json` where it offers it).
 *
 * hospital (provider): keygen, register, its HTTPS `tds gateway`, dataset
 * publish, offer create, contracts --to-sign, contract sign, contract revoke;
 * operator: participants --pending, approve; institute (consumer): keygen,
 * register, catalog, offers, contract propose, contract sign, job run (the
 * download through the gateway), contract verify; auditor: keygen, register,
 * ledger key, report.
 */
import { execFile, execFileSync, spawn, type ChildProcess } from 'node:child_process';
import { createHash } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { createTestDatabase } from '../helpers/context.js';
import { selfSignedCertificate } from '../helpers/loopback.js';
import { startService, stopService, type ServiceProcess } from './service-process.js';

const PURPOSE = 'DUO:0000042';
const TITLE = 'Heart failure cohort 2015-2024';
const CONTENT = 'stay_id,age,los_days\n1,54,3\n2,61,7\n3,73,12\n';

let root: string;
let tdsBin: string;
let svc: ServiceProcess | undefined;
let gateway: ChildProcess | undefined;
const folder: Record<'hospital' | 'institute' | 'auditor' | 'operator', string> = { hospital: '', institute: '', auditor: '', operator: '' };
type Role = keyof typeof folder;

interface Run {
  code: number;
  out: string;
  err: string;
}

/** The environment of a person's shell: PATH with node, HOME and cwd in the role's folder, the service's URL. */
function envOf(role: Role): NodeJS.ProcessEnv {
  return { PATH: `${path.dirname(process.execPath)}:/usr/bin:/bin`, HOME: folder[role], TDS_URL: svc!.base, TDS_DEV_MODE: 'true', LANG: 'C' };
}

/** Run the installed `tds` in the role's folder. */
function tds(role: Role, ...args: string[]): Promise<Run> {
  return new Promise((resolve) => {
    execFile(tdsBin, args, { cwd: folder[role], env: envOf(role), timeout: 60_000 }, (error, stdout, stderr) => {
      const code = error ? (typeof error.code === 'number' ? error.code : -1) : 0;
      resolve({ code, out: stdout, err: stderr });
    });
  });
}

/** Run and expect exit 0 with nothing on stderr; the stdout. */
async function ok(role: Role, ...args: string[]): Promise<string> {
  const r = await tds(role, ...args);
  expect({ args, code: r.code, err: r.err }).toEqual({ args, code: 0, err: '' });
  return r.out;
}

/** A `--json` command's answer. */
async function json<T>(role: Role, ...args: string[]): Promise<T> {
  return JSON.parse(await ok(role, '--json', ...args)) as T;
}

/** keygen + register in the role's folder; the id register printed (and wrote into the key file). */
async function join(role: Role, name: string, roles: string): Promise<string> {
  const keyFile = `${role}.json`;
  expect(await ok(role, 'keygen', '--out', keyFile)).toContain(`wrote ${keyFile}`);
  const out = await ok(role, 'register', '--key', keyFile, '--name', name, '--roles', roles, '--organization', name, '--contact', `dpo@${role}.example`);
  const id = /^id: (\S+)$/m.exec(out)?.[1];
  expect(out).toContain('status: pending');
  expect(JSON.parse(fs.readFileSync(path.join(folder[role], keyFile), 'utf8')).id).toBe(id);
  return id!;
}

beforeAll(async () => {
  root = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-three-roles-'));
  // The package as a user receives it: pack the built checkout, install the tarball into a prefix of its own.
  const packed = JSON.parse(execFileSync('npm', ['pack', '--json', '--pack-destination', root], { encoding: 'utf8', stdio: ['ignore', 'pipe', 'ignore'] })) as Array<{ filename: string; files: Array<{ path: string }> }>;
  const files = packed[0]!.files.map((f) => f.path);
  expect(files).toEqual(expect.arrayContaining(['dist/src/cli/tds.js', 'dist/src/main.js', 'contracts/purposes.json', 'dist/migrations/index.js']));
  expect(files.filter((f) => /^(test|bench|src|node_modules)\//.test(f))).toEqual([]);
  const prefix = path.join(root, 'tds-install');
  execFileSync('npm', ['install', '--prefix', prefix, path.join(root, packed[0]!.filename), '--omit=optional', '--no-audit', '--no-fund', '--prefer-offline', '--loglevel=error'], { stdio: 'ignore', timeout: 120_000 });
  tdsBin = path.join(prefix, 'node_modules', '.bin', 'tds');
  for (const role of Object.keys(folder) as Role[]) fs.mkdirSync((folder[role] = path.join(root, role)));
  const dataDir = path.join(folder.operator, '.tds');
  svc = await startService({ DATABASE_URL: await createTestDatabase(), TDS_DATA_DIR: dataDir }, undefined, path.join(prefix, 'node_modules', 'tds', 'dist', 'src', 'main.js'));
}, 180_000);

afterAll(async () => {
  if (gateway && gateway.exitCode === null) {
    const exited = new Promise((r) => gateway!.once('exit', r));
    gateway.kill('SIGTERM');
    await exited;
  }
  if (svc) await stopService(svc);
  if (root) fs.rmSync(root, { recursive: true, force: true });
});

it('hospital, institute and auditor, approved by the operator, from offer to job to audit to revocation, with the installed tds', async () => {
  expect(fs.realpathSync(tdsBin)).toMatch(/tds-install\/node_modules\/tds\/dist\/src\/cli\/tds\.js$/);

  // Everyone joins; the operator finds the registrations waiting and approves them.
  const hospitalId = await join('hospital', 'St. Mary Hospital', 'provider');
  const instituteId = await join('institute', 'Heart Research Institute', 'consumer');
  const auditorId = await join('auditor', 'Independent Audit Office', 'auditor');
  const operatorKey = path.join('.tds', 'operator.json');
  const pendingTable = await ok('operator', '--key', operatorKey, 'participants', '--pending');
  expect(pendingTable).toMatch(/St\. Mary Hospital/);
  const pending = await json<{ items: Array<{ id: string; name: string; status: string }> }>('operator', '--key', operatorKey, 'participants', '--pending');
  const byName = new Map(pending.items.map((p) => [p.name, p.id]));
  expect(Object.fromEntries(byName)).toEqual({ 'St. Mary Hospital': hospitalId, 'Heart Research Institute': instituteId, 'Independent Audit Office': auditorId });
  for (const id of byName.values()) expect(await ok('operator', '--key', operatorKey, 'approve', id)).toBe(`${id}: active\n`);
  expect((await json<{ items: unknown[] }>('operator', '--key', operatorKey, 'participants', '--pending')).items).toEqual([]);

  // The hospital serves its folder with its own gateway (self-signed certificate, loopback: dev mode) and publishes.
  fs.mkdirSync(path.join(folder.hospital, 'data'));
  fs.writeFileSync(path.join(folder.hospital, 'data', 'hf-cohort.csv'), CONTENT);
  selfSignedCertificate(folder.hospital);
  gateway = spawn(tdsBin, ['gateway', '--dir', 'data', '--cert', 'cert.pem', '--key', 'key.pem', '--provider', hospitalId, '--credentials', 'hospital.json', '--state', 'gw-state', '--port', '0', '--host', '127.0.0.1'],
    { cwd: folder.hospital, env: envOf('hospital'), stdio: ['ignore', 'pipe', 'pipe'] });
  let gatewayOut = '';
  gateway.stdout!.on('data', (d) => (gatewayOut += String(d)));
  gateway.stderr!.on('data', (d) => (gatewayOut += String(d)));
  let gatewayUrl: string | undefined;
  for (const until = Date.now() + 20_000; !(gatewayUrl = /gateway serving data on (https:\/\/\S+)/.exec(gatewayOut)?.[1]);) {
    if (gateway.exitCode !== null || Date.now() > until) throw new Error(`tds gateway did not start: ${gatewayOut}`);
    await new Promise((r) => setTimeout(r, 50));
  }
  const published = await ok('hospital', '--key', 'hospital.json', 'dataset', 'publish', '--title', TITLE, '--field', 'cardiology', '--description', 'Pseudonymised admissions, one row per stay',
    '--file', 'data/hf-cohort.csv', '--url', `${gatewayUrl}/hf-cohort.csv`);
  const datasetId = /^dataset: (\S+)$/m.exec(published)![1]!;
  const sha256 = createHash('sha256').update(CONTENT).digest('hex');
  expect(published).toContain(`sha256: ${sha256} (${CONTENT.length} bytes)`);
  const offerId = /^offer: (\S+)$/m.exec(await ok('hospital', '--key', 'hospital.json', 'offer', 'create', datasetId, '--purposes', `${PURPOSE},DUO:0000006`, '--max-invocations', '10', '--access', 'download', '--valid-until', '2099-12-31T23:59:59Z'))![1]!;

  // The institute finds the dataset in the catalog and its offer, and proposes.
  const catalogTable = await ok('institute', '--key', 'institute.json', 'catalog', '--field', 'cardiology');
  expect(catalogTable.split('\n').find((l) => l.startsWith(datasetId))).toMatch(/Heart failure cohort .*cardiology +raw +St\. Mary Hospital/);
  const catalog = await json<{ items: Array<{ id: string; title: string }> }>('institute', '--key', 'institute.json', 'catalog', '--q', 'heart failure');
  expect(catalog.items.map((d) => [d.id, d.title])).toEqual([[datasetId, TITLE]]);
  expect(await ok('institute', '--key', 'institute.json', 'offers', datasetId)).toMatch(new RegExp(`^${offerId} +active +download +${PURPOSE},DUO:0000006 +10 `, 'm'));
  const offers = await json<{ items: Array<{ id: string; status: string }> }>('institute', '--key', 'institute.json', 'offers', datasetId);
  expect(offers.items.map((o) => [o.id, o.status])).toEqual([[offerId, 'active']]);
  const proposal = await ok('institute', '--key', 'institute.json', 'contract', 'propose', '--offer', offers.items[0]!.id, '--purposes', PURPOSE, '--max-invocations', '2');
  const contractId = /^next: tds contract sign (\S+)$/m.exec(proposal)![1]!;
  expect(proposal).toContain('St. Mary Hospital');

  // The consumer signs first (the service requires it), then the hospital finds the contract waiting for it and countersigns.
  expect((await json<{ items: Array<{ id: string }> }>('hospital', '--key', 'hospital.json', 'contracts', '--to-sign')).items).toEqual([]);
  expect(await ok('institute', '--key', 'institute.json', 'contract', 'sign', contractId, '--yes')).toMatch(/signed as consumer; state: consumer_signed\n$/);
  const toSign = await json<{ items: Array<{ id: string; state: string; datasetTitle: string; consumer: { name: string } }> }>('hospital', '--key', 'hospital.json', 'contracts', '--to-sign');
  expect(toSign.items.map((c) => [c.id, c.state, c.datasetTitle, c.consumer.name])).toEqual([[contractId, 'consumer_signed', TITLE, 'Heart Research Institute']]);
  expect(await ok('hospital', '--key', 'hospital.json', 'contracts', '--to-sign')).toContain('sign with: tds contract sign');
  expect(await ok('hospital', '--key', 'hospital.json', 'contract', 'sign', toSign.items[0]!.id, '--yes')).toMatch(/signed as provider; state: active\n$/);

  // The institute runs a job: the release is downloaded from the hospital's gateway, checked, and kept as the output.
  fs.copyFileSync(path.join(folder.hospital, 'cert.pem'), path.join(folder.institute, 'stmary-cert.pem'));
  const run = await ok('institute', '--key', 'institute.json', 'job', 'run', '--contract', contractId, '--purpose', PURPOSE, '--ca', 'stmary-cert.pem', '--out', 'hf-cohort.csv', '--idempotency-key', 'first-run');
  const jobId = /^job (\S+) authorized for dataset (\S+)$/m.exec(run)![1]!;
  expect(run).toContain(`authorized for dataset ${datasetId}`);
  expect(run).toContain(`downloaded ${CONTENT.length} bytes, sha256 ${sha256} verified`);
  expect(run).toContain(`job ${jobId} completed: dataset saved`);
  expect(fs.readFileSync(path.join(folder.institute, 'hf-cohort.csv'), 'utf8')).toBe(CONTENT);
  expect(fs.existsSync(path.join(folder.institute, `${jobId}.tlog-proof`))).toBe(true);
  expect(gatewayOut).toContain('"msg":"served"');
  const jobs = await json<{ items: Array<{ id: string; state: string }> }>('hospital', '--key', 'hospital.json', 'jobs', '--role', 'provider');
  expect(jobs.items.map((j) => [j.id, j.state])).toEqual([[jobId, 'completed']]);

  // The auditor pins the log key and reports: one release of at most 2, the job completed, no violation.
  // (ledger key warns on stderr that a key fetched from the audited service proves nothing by itself)
  const logKey = await tds('auditor', '--key', 'auditor.json', 'ledger', 'key');
  expect(logKey.code).toBe(0);
  fs.writeFileSync(path.join(folder.auditor, 'log-key.txt'), logKey.out);
  let report: Run | undefined;
  // The checkpoint follows the ledger within about a second: report once it covers the completed job.
  for (const until = Date.now() + 20_000; ;) {
    report = await tds('auditor', '--key', 'auditor.json', 'report', '--log-key', '@log-key.txt', '--contract', contractId);
    if (report.code !== 0 || /jobs never completed: 0/.test(report.out) || Date.now() > until) break;
    await new Promise((r) => setTimeout(r, 300));
  }
  expect(report.code).toBe(0);
  expect(report.out).toMatch(/^OK: \d+ entries verified; signed checkpoint size \d+/m);
  expect(report.out).toContain(`contract ${contractId} (active)`);
  expect(report.out).toContain(`dataset ${datasetId}, provider ${hospitalId}, consumer ${instituteId}`);
  expect(report.out).toContain('releases: 1 of at most 2');
  expect(report.out).toContain('jobs never completed: 0');
  expect(report.out).toMatch(/OK: no violations in 1 contract\(s\), 1 release\(s\)\n$/);
  expect(report.out).not.toContain('VIOLATION');

  // The hospital revokes; verify shows it revoked, and the institute cannot run another job.
  const revoked = await ok('hospital', '--key', 'hospital.json', 'contract', 'revoke', contractId, '--reason', 'ethics approval withdrawn');
  expect(revoked).toMatch(new RegExp(`^contract ${contractId}: revoked\nreason: ethics approval withdrawn\n`));
  const verified = await ok('institute', '--key', 'institute.json', 'contract', 'verify', contractId);
  expect(verified).toContain(`contract ${contractId}: valid`);
  expect(verified).toContain('  state now: revoked: no longer in force');
  expect(verified).toContain('  revocation reason: ethics approval withdrawn');
  expect(verified).toMatch(/consumer Heart Research Institute .* signed with /);
  expect(verified).toMatch(/provider St\. Mary Hospital .* signed with /);
  const refused = await tds('institute', '--key', 'institute.json', 'job', 'run', '--contract', contractId, '--purpose', PURPOSE, '--ca', 'stmary-cert.pem', '--out', 'again.csv');
  expect({ code: refused.code, err: refused.err.trim() }).toEqual({ code: 1, err: expect.stringMatching(/^tds: CONTRACT_REVOKED: /) });
}, 120_000);
