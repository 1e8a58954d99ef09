/**
 * The `tds` dispatcher as people use it (docs/cli.md): key files on disk,
 * settings from TDS_URL / TDS_KEY, every step from keygen to job run through
 * `runTds`, and one-line errors with the right exit status.
 */
import type { AddressInfo } from 'node:net';
import { listenOnLoopback, selfSignedCertificate } from '../helpers/loopback.js';
import fs from 'node:fs';
import http from 'node:http';
import os from 'node:os';
import path from 'node:path';
import { pino } from 'pino';
import { createTestContext, type TestContext } from '../helpers/context.js';
import { startGateway, type Gateway } from '../../src/gateway/gateway.js';
import type { Credentials } from '../../src/client/credentials.js';
import { runTds } from '../../src/cli/tds.js';

const PURPOSE = 'DUO:0000042';
let ctx: TestContext;
let server: http.Server;
let serviceUrl: string;
let tmp: string;
let served: string;
let gateway: Gateway;

beforeAll(async () => {
  ctx = await createTestContext({}, { background: true });
  ({ server, url: serviceUrl } = await listenOnLoopback(ctx.app));
  tmp = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-cli-commands-'));
  served = path.join(tmp, 'served');
  fs.mkdirSync(served);
  selfSignedCertificate(tmp);
  // The gateway starts inside the test, once the lab is registered: it serves for one provider only.
});

afterAll(async () => {
  await gateway?.close();
  server?.closeAllConnections();
  await new Promise((resolve) => server?.close(resolve));
  await ctx?.close();
  fs.rmSync(tmp, { recursive: true, force: true });
});

/** Run a command line with TDS_KEY = `keyFile`; returns exit status and output lines. */
async function tds(keyFile: string, ...argv: string[]): Promise<{ code: number; out: string[]; err: string[] }> {
  const out: string[] = [];
  const err: string[] = [];
  const env = { TDS_URL: serviceUrl, TDS_KEY: keyFile, TDS_AUDIENCE: ctx.config.audience, TDS_DEV_MODE: 'true' };
  const code = await runTds(argv, { out: (l) => void out.push(l), err: (l) => void err.push(l), isTTY: false, prompt: async () => '', env });
  return { code, out, err };
}

const valueOf = (lines: string[], label: string) => lines.find((l) => l.startsWith(`${label}: `))?.slice(label.length + 2) ?? '';

describe('tds, from keygen to a completed job', () => {
  it('follows the documented flow with key files', async () => {
    const lab = path.join(tmp, 'lab.json');
    const institute = path.join(tmp, 'institute.json');
    const operator = path.join(ctx.dataDir, 'operator.json');

    for (const file of [lab, institute]) {
      expect((await tds(file, 'keygen', '--out', file)).code).toBe(0);
      expect(fs.statSync(file).mode & 0o777).toBe(0o600);
    }
    expect((await tds(lab, 'keygen', '--out', lab)).err[0]).toMatch(/already exists; refusing to overwrite/);

    const reg = await tds(lab, 'register', '--name', 'Example Lab', '--roles', 'provider', '--organization', 'Example Lab gGmbH', '--contact', 'it@lab.example');
    const labId = (JSON.parse(fs.readFileSync(lab, 'utf8')) as { id: string }).id;
    expect(reg.out.slice(0, 2)).toEqual([`id: ${labId}`, 'status: pending']);
    expect((await tds(lab, 'register', '--name', 'again', '--roles', 'provider')).err[0]).toMatch(/already registered/);
    expect((await tds(institute, 'register', '--name', 'Example Institute', '--roles', 'consumer')).code).toBe(0);
    const instituteId = (JSON.parse(fs.readFileSync(institute, 'utf8')) as { id: string }).id;

    // Pending participants can do nothing: the API's problem comes out as one line.
    expect(await tds(lab, 'standing', '--field', 'cardiology')).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: PARTICIPANT_NOT_ACTIVE: /)] });
    expect((await tds(operator, 'approve', labId)).out).toEqual([`${labId}: active`]);
    expect((await tds(operator, 'approve', instituteId)).out).toEqual([`${instituteId}: active`]);
    expect((await tds(lab, 'approve', instituteId)).err[0]).toMatch(/^tds: ROLE_REQUIRED: /);

    gateway = await startGateway({ dir: served, cert: path.join(tmp, 'cert.pem'), key: path.join(tmp, 'key.pem'), serviceUrl, port: 0, host: '127.0.0.1', issuer: ctx.config.audience, logger: pino({ level: 'silent' }),
      providerId: labId, credentials: JSON.parse(fs.readFileSync(lab, 'utf8')) as Credentials, stateDir: path.join(tmp, 'gateway-state') });
    fs.writeFileSync(path.join(served, 'lab.csv'), 'sample,value\na,1\n');
    const pub = await tds(lab, 'dataset', 'publish', '--title', 'Lab values', '--field', 'cardiology', '--file', path.join(served, 'lab.csv'), '--url', `${gateway.url}/lab.csv`);
    expect(pub.code).toBe(0);
    const offer = await tds(lab, 'offer', 'create', valueOf(pub.out, 'dataset'), '--purposes', PURPOSE, '--max-invocations', '5', '--access', 'download');
    const proposal = await tds(institute, 'contract', 'propose', '--offer', valueOf(offer.out, 'offer'), '--purposes', PURPOSE, '--max-invocations', '2');
    expect(proposal.out.at(-1)).toMatch(/^next: tds contract sign /);
    const contractId = proposal.out.at(-1)!.split(' ').at(-1)!;

    expect((await tds(institute, 'contract', 'sign', contractId)).err[0]).toMatch(/not a terminal: re-run with --yes/);
    expect((await tds(institute, 'contract', 'sign', contractId, '--yes')).out.at(-1)).toBe('signed as consumer; state: consumer_signed');
    expect((await tds(lab, 'contract', 'sign', contractId, '--yes')).out.at(-1)).toBe('signed as provider; state: active');
    const saved = path.join(tmp, 'contract.json');
    expect((await tds(institute, 'contract', 'verify', contractId, '--save', saved)).code).toBe(0);
    expect((await tds('/nonexistent-key.json', 'contract', 'verify', saved)).out[0]).toBe(`contract ${contractId}: valid`);

    const work = path.join(tmp, 'work');
    const run = await tds(institute, 'job', 'run', '--contract', contractId, '--purpose', PURPOSE, '--ca', path.join(tmp, 'cert.pem'), '--work-dir', work, '--out', path.join(tmp, 'wc.out'), '--', 'wc', '-l');
    expect(run).toMatchObject({ code: 0, err: [] });
    expect(run.out.join('\n')).toMatch(/job \S+ completed: exit 0, resultDigest [0-9a-f]{64}/);
    expect(fs.readFileSync(path.join(tmp, 'wc.out'), 'utf8').trim()).toMatch(/^2 /);
    const ranJob = run.out[0]!.split(' ')[1]!;
    expect(await tds(institute, 'job', 'fail', ranJob, '--reason', 'too late')).toMatchObject({ code: 1, err: [expect.stringMatching(/^tds: INVALID_STATE_TRANSITION: /)] });
    expect((await tds(institute, 'job', 'fail', ranJob)).code).toBe(2);

    const standing = await tds(lab, 'standing', '--field', 'cardiology');
    expect(standing.out).toEqual(expect.arrayContaining(['research field: cardiology', 'releases: received from others 0, given to others 1', 'shared datasets: 1']));
  });

  it('prints every command of a group for `tds help <group>`, one command for `tds help <group> <command>`', async () => {
    const key = path.join(tmp, 'nobody.json');
    const usages = (r: { out: string[] }) => r.out.join('\n').split('\n').filter((l) => l.startsWith('usage: ')).map((l) => l.split(' ').slice(2, 4).join(' '));
    const dataset = await tds(key, 'help', 'dataset');
    expect(dataset).toMatchObject({ code: 0, err: [] });
    expect(usages(dataset)).toEqual(['dataset publish', 'dataset withdraw', 'dataset attest']);
    expect(dataset.out.join('\n')).not.toContain('Global options');
    expect(usages(await tds(key, 'help', 'offer'))).toEqual(['offer create']);
    expect(usages(await tds(key, 'help', 'job'))).toEqual(['job run', 'job fail', 'job result']);
    expect(usages(await tds(key, 'dataset', '--help'))).toEqual(['dataset publish', 'dataset withdraw', 'dataset attest']);
    const one = await tds(key, 'help', 'dataset', 'publish');
    expect(one).toMatchObject({ code: 0, err: [] });
    expect(one.out.join('\n').split('\n')).toEqual([expect.stringMatching(/^usage: tds dataset publish --title T .*\[--schema FILE \| --columns /), expect.stringMatching(/^ {2}hash the file/)]);
    expect((await tds(key, 'help')).out.join('\n')).toMatch(/^usage: tds \[--service URL\][^]*\n {2}dataset publish /);
    // Help on a word that names nothing is a bad command line.
    expect(await tds(key, 'help', 'datset')).toMatchObject({ code: 2, err: ['tds: help: no command or group "datset"', expect.stringMatching(/^usage: tds/)] });
    expect(await tds(key, 'help', 'dataset', 'publsh')).toMatchObject({ code: 2 });
    // The group word alone is still not a command.
    expect(await tds(key, 'dataset')).toMatchObject({ code: 2, err: ['tds: dataset: missing subcommand (one of: publish, withdraw, attest)', expect.stringMatching(/^usage: tds/)] });
  });

  it('exits 2 with the usage for a bad command line, and names unreachable services', async () => {
    const key = path.join(tmp, 'nobody.json');
    expect(await tds(key, 'contract', 'burn')).toMatchObject({ code: 2, err: ['tds: unknown command: contract burn', expect.stringMatching(/^usage: tds/)] });
    expect((await tds(key, 'offer', 'create', 'd', '--purposes', PURPOSE, '--max-invocations', 'many')).code).toBe(2);
    expect((await tds(key, 'standing')).err[0]).toBe('tds: standing: --field is required');
    expect((await tds(key, 'standing', '--field', 'x')).err[0]).toMatch(/^tds: key file .*nobody\.json not found/);

    const closed = http.createServer();
    await new Promise<void>((resolve) => closed.listen(0, '127.0.0.1', resolve));
    const deadUrl = `http://127.0.0.1:${(closed.address() as AddressInfo).port}`;
    await new Promise((resolve) => closed.close(resolve));
    const keyFile = path.join(tmp, 'any.json');
    await tds(keyFile, 'keygen', '--out', keyFile);
    expect((await tds(keyFile, '--service', deadUrl, 'register', '--name', 'x', '--roles', 'consumer')).err).toEqual([`tds: cannot reach ${deadUrl}: ECONNREFUSED (nothing listens there: is the service running, and is the URL (--service / TDS_URL) right?)`]);
  });
});
