/**
 * The console end to end in Chromium against the real service (buildApp on
 * loopback, real PostgreSQL, background sequencer making checkpoints): a
 * hospital publishes and offers, an institute proposes and signs, the
 * hospital countersigns, the institute runs a job, the operator approves a
 * newcomer, the auditor verifies the whole ledger in the page; then a
 * tampered ledger and a foreign checkpoint key. Every step asserts on what
 * the page shows, and no request ever carries a private key.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { Page } from 'playwright-core';
import type { TestContext } from '../helpers/context.js';
import { makeParticipant, register, signed, type Actor } from '../helpers/actors.js';
import { generateKeyPair, secretKeyFromJwk, sign } from '../../src/crypto/ed25519.js';
import { sha256, toBase64Url, toHex, utf8 } from '../../src/crypto/sha256.js';
import { verifierKey } from '../../src/ledger/checkpoint.js';
import { chainHash } from '../../src/ledger/chain.js';
import { canonicalEntryText, leafHashOfText, type LedgerEntry } from '../../src/ledger/ledger-entry.js';
import { cosign, cosignerVerifierKey } from '../../src/ledger/cosignature.js';
import { addSignatures, splitNote } from '../../src/ledger/note.js';
import { actorPage, go, shot, signIn, smallShot, startRig, stopRig, text, writeKeyFile, type ConsoleRig, type Sent } from './browser.js';

let rig: ConsoleRig;
let ctx: TestContext;
let base: string;
let dir: string;
const sent: Sent[] = [];
const errors: string[] = [];
const actors: Record<string, Actor> = {};
const keyFiles: Record<string, string> = {};
const pages: Record<string, Page> = {};

const title = 'Cardiology outcomes 2025';
const csv = 'age,los_days\n61,3\n72,5\n';

beforeAll(async () => {
  rig = await startRig();
  ({ ctx, base, dir } = rig);
  actors.hospital = await makeParticipant(ctx, ['provider'], 'St. Mary Hospital');
  actors.institute = await makeParticipant(ctx, ['consumer'], 'Heart Research Institute');
  actors.auditor = await makeParticipant(ctx, ['auditor'], 'Ethics Board');
  for (const [name, a] of Object.entries(actors)) keyFiles[name] = writeKeyFile(dir, name, a);
  keyFiles.operator = writeKeyFile(dir, 'operator', ctx.operator);
  for (const name of ['hospital', 'institute', 'auditor', 'operator']) pages[name] = (await actorPage(rig.browser, sent, errors)).page;
});

afterAll(() => stopRig(rig));

describe('the console in Chromium', () => {
  let contractId: string;

  it('serves the console with a strict Content-Security-Policy and no inline script', async () => {
    const res = await fetch(`${base}/console/`);
    expect(res.status).toBe(200);
    const csp = res.headers.get('content-security-policy') ?? '';
    expect(csp).toContain("script-src 'self'");
    expect(csp).toContain("connect-src 'self'");
    expect(csp).toContain("default-src 'none'");
    const html = await res.text();
    expect(html).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/);
    expect(html).not.toMatch(/\son[a-z]+=/);
  });

  it('a hospital publishes a dataset from a file (size and SHA-256 computed in the page) and makes an offer', async () => {
    const page = pages.hospital!;
    await signIn(page, base, keyFiles.hospital!);
    expect(await text(page, '#key-status')).toContain('St. Mary Hospital');
    await go(page, '#/datasets');
    const dataFile = path.join(dir, 'outcomes.csv');
    fs.writeFileSync(dataFile, csv);
    await page.getByLabel('Title').fill(title);
    await page.getByLabel('Description').fill('Length of stay after cardiac surgery');
    await page.getByLabel('Research field').fill('cardiology');
    await page.getByLabel('Kind').selectOption('insight');
    await page.getByLabel('Data file').setInputFiles(dataFile);
    const digest = toHex(sha256(Buffer.from(csv)));
    await page.locator('#file-digest', { hasText: digest }).waitFor();
    expect(await text(page, '#file-digest')).toContain(`${Buffer.byteLength(csv)} bytes`);
    await page.getByLabel('Distribution URL').fill(`${base}/gateway/outcomes.csv`);
    await shot(page, 'provider-publish');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#published').waitFor();
    expect(await text(page, '#published')).toContain(title);
    await page.getByRole('button', { name: `Offers on ${title}` }).click();
    await page.getByLabel('Purposes allowed').selectOption(['DUO:0000042']);
    await page.getByLabel('Invocations per contract').fill('3');
    await page.getByRole('button', { name: 'Make the offer' }).click();
    await page.locator('#offer-made').waitFor();
    await page.locator('#dataset-offers td', { hasText: 'general research use' }).first().waitFor();
    await shot(page, 'provider-datasets');
  });

  it('an institute finds it in the catalog, proposes a contract and signs it', async () => {
    const page = pages.institute!;
    await signIn(page, base, keyFiles.institute!);
    await go(page, '#/catalog');
    await page.getByLabel('Search words').fill('cardiac');
    await page.getByRole('button', { name: 'Search' }).click();
    await page.getByRole('button', { name: `Offers of ${title}` }).click();
    await page.locator('.offer', { hasText: 'general research use' }).waitFor();
    await shot(page, 'consumer-catalog');
    await page.getByLabel('Invocations').fill('2');
    await page.getByRole('button', { name: 'Propose a contract' }).click();
    await page.locator('#contract-terms').waitFor();
    contractId = new URL(page.url()).hash.split('id=')[1]!;
    const terms = await text(page, '#contract-terms');
    expect(terms).toContain('St. Mary Hospital');
    expect(terms).toContain('Heart Research Institute');
    expect(terms).toContain(title);
    expect(terms).toContain('general research use');
    expect(terms).toContain('at most 2');
    expect(terms).toContain('state proposed');
    await page.getByRole('button', { name: 'Sign these terms' }).click();
    await page.locator('#signed').waitFor();
    expect(await text(page, '#signed')).toContain('consumer_signed');
  });

  it('the hospital sees the terms in words and countersigns', async () => {
    const page = pages.hospital!;
    await go(page, `#/contracts?id=${contractId}`);
    await page.locator('#contract-terms', { hasText: 'consumer_signed' }).waitFor();
    const terms = await text(page, '#contract-terms');
    expect(terms).toContain('Heart Research Institute');
    expect(terms).toContain('general research use');
    expect(terms).toContain('free');
    await shot(page, 'provider-countersign');
    await page.locator('#contract-detail').scrollIntoViewIfNeeded();
    await smallShot(page, 'countersign');
    await page.getByRole('button', { name: 'Countersign these terms' }).click();
    await page.locator('#signed').waitFor();
    expect(await text(page, '#signed')).toContain('active');
  });

  it('the institute runs a job under the active contract', async () => {
    const page = pages.institute!;
    await go(page, '#/catalog');
    await go(page, `#/contracts?id=${contractId}`);
    await page.locator('#contract-terms', { hasText: 'state active' }).waitFor();
    await page.getByRole('button', { name: /Run a job|Submit the analysis/ }).click();
    await page.locator('#job-created').waitFor();
    expect(await text(page, '#job-created')).toMatch(/Job \S+: (authorized|queued|released)\./);
    // The receipt proves the release under a signed checkpoint: wait until one covers it.
    await ctx.services.ledger.flush();
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Save the receipt' }).click();
    await (await download).saveAs(path.join(dir, 'receipt.tlog-proof'));
    expect(fs.readFileSync(path.join(dir, 'receipt.tlog-proof'), 'utf8')).toMatch(/^c2sp\.org\/tlog-proof@v1\nextra /);
    await shot(page, 'consumer-job');
  });

  it('on a compute contract the institute sees the output policy in words and submits an analysis built from the columns', async () => {
    const { hospital, institute } = actors as Required<typeof actors>;
    const ds = await signed(ctx.app, hospital!, 'post', '/v1/datasets', {
      title: 'ICU stays 2025', description: 'Raw stays, one row per patient', researchField: 'cardiology', kind: 'raw',
      distribution: { url: `${base}/gateway/icu.csv`, sha256: 'a'.repeat(64), byteSize: 10, mediaType: 'text/csv' },
      schema: { columns: [{ name: 'patient_id', type: 'string', identifier: true }, { name: 'ward', type: 'string' }, { name: 'los_days', type: 'number' }] },
    });
    expect(ds.status).toBe(201);
    const offer = await signed(ctx.app, hospital!, 'post', `/v1/datasets/${ds.body.id}/offers`, { purposes: ['DUO:0000042'], maxInvocations: 5, outputPolicy: { minCellCount: 10, roundTo: 5 } });
    expect(offer.status).toBe(201);
    const proposed = await signed(ctx.app, institute!, 'post', '/v1/contracts', { offerId: offer.body.id, purposes: ['DUO:0000042'], maxInvocations: 5 });
    expect(proposed.status).toBe(201);
    for (const a of [institute!, hospital!]) {
      const sig = toBase64Url(sign(utf8(proposed.body.canonical as string), secretKeyFromJwk(a.privateJwk)));
      expect((await signed(ctx.app, a, 'post', `/v1/contracts/${proposed.body.id}/signatures`, { kid: a.kid, signature: sig })).status).toBe(200);
    }
    const page = pages.institute!;
    await go(page, `#/contracts?id=${proposed.body.id}`);
    await page.locator('#contract-terms', { hasText: 'state active' }).waitFor();
    const terms = await text(page, '#contract-terms');
    expect(terms).toContain('compute at the provider');
    expect(terms).toContain('groups under 10 rows are not released');
    expect(terms).toContain('counts rounded to multiples of 5');
    const groupBy = page.getByLabel('Group by');
    expect(await groupBy.locator('option').allTextContents()).toEqual(['ward (string)', 'los_days (number)']);
    await groupBy.selectOption(['ward']);
    await page.getByLabel('Measure', { exact: true }).selectOption('mean');
    await page.getByLabel('of column').selectOption('los_days');
    await shot(page, 'consumer-analysis');
    await page.getByRole('button', { name: 'Submit the analysis' }).click();
    await page.locator('#job-created').waitFor();
    expect(await text(page, '#job-created')).toMatch(/Job \S+: queued\./);
  });

  it('the operator approves a newcomer in the page', async () => {
    const { res } = await register(ctx.app, { name: 'Newcomer Lab', roles: ['consumer'] });
    expect(res.status).toBe(201);
    const page = pages.operator!;
    await signIn(page, base, keyFiles.operator!);
    await go(page, '#/operator');
    await page.getByRole('button', { name: 'Approve Newcomer Lab' }).waitFor();
    await shot(page, 'operator');
    await page.getByRole('button', { name: 'Approve Newcomer Lab' }).click();
    await page.locator('#participants').getByRole('cell', { name: 'Newcomer Lab', exact: true }).waitFor();
    expect(await text(page, '#pending')).toContain('Nobody is waiting');
    // A space-wide rule made in the page appears in the (paged) rule list.
    await page.locator('#rule-form select[name="kind"]').selectOption('share-all');
    await page.locator('#rule-form input[name="researchField"]').fill('browser-field');
    await page.getByRole('button', { name: 'Add the rule' }).click();
    await page.locator('#rules li', { hasText: 'every insight dataset registered in browser-field must be shared' }).waitFor();
    expect(await text(page, '#rules')).toMatch(/Page 1: \d+ shown\./);
  });

  it('the auditor pins the log key, and the page verifies the checkpoint, the shown entries and the whole ledger', async () => {
    await ctx.services.ledger.flush();
    const page = pages.auditor!;
    await signIn(page, base, keyFiles.auditor!);
    await go(page, '#/ledger');
    await page.getByRole('button', { name: 'Show the key the service announces' }).click();
    await page.locator('#announced-key').waitFor();
    expect(await text(page, '#announced-key')).toBe(ctx.services.ledger.verifierKey());
    await page.getByRole('button', { name: 'Pin these keys' }).click();
    await page.locator('#checkpoint-ok').waitFor();
    expect(await text(page, '#consistency')).toContain('First visit');
    await page.locator('.proof-ok').first().waitFor();
    expect(await page.locator('.proof-bad').count()).toBe(0);
    await page.getByRole('button', { name: 'Verify the whole ledger' }).click();
    await page.locator('#verify-ok').waitFor();
    const size = await ctx.services.ledger.treeSize();
    expect(await text(page, '#verify-ok')).toMatch(/The whole ledger verifies: \d+ entries/);
    expect(Number(await page.locator('#verify-progress').getAttribute('value'))).toBeGreaterThan(0);
    expect(size).toBeGreaterThan(10);
    await shot(page, 'auditor-ledger');
    // 200 % zoom: the same page in half the CSS width still shows its verdict without sideways scrolling of the page.
    await page.setViewportSize({ width: 640, height: 900 });
    await shot(page, 'auditor-ledger-zoom200');
    expect(await page.evaluate('document.documentElement.scrollWidth <= window.innerWidth + 1')).toBe(true);
    await page.setViewportSize({ width: 1280, height: 900 });
    // A second visit proves consistency with the checkpoint kept in IndexedDB.
    await go(page, '#/catalog');
    await go(page, '#/ledger');
    await page.locator('#consistency', { hasText: 'Consistent with the checkpoint' }).waitFor();
  });

  it('filters the ledger by contract and shows only its entries, each with a verified proof', async () => {
    const page = pages.auditor!;
    await go(page, `#/ledger?contract=${contractId}`);
    await page.locator('#entries td', { hasText: 'contract.activated' }).waitFor();
    const kinds = await page.locator('#entries tbody tr td:nth-child(2)').allTextContents();
    expect(kinds.length).toBeGreaterThanOrEqual(4);
    for (const k of kinds) expect(k).toMatch(/^(contract\.|job\.)/);
    await page.locator('.proof-ok').first().waitFor();
  });

  it('names the first bad index of a ledger an insider rewrote', async () => {
    const page = pages.auditor!;
    const victim = 5;
    await ctx.ds.transaction(async (tx) => {
      await tx.query('ALTER TABLE ledger_entries DISABLE TRIGGER USER');
      await tx.query('CREATE TABLE ledger_entries_backup AS SELECT * FROM ledger_entries');
      // A careful insider: the entry changed, its leaf hash and every later chain hash recomputed, so only the signed root disagrees.
      const rows = (await tx.query('SELECT idx::int AS i, entry FROM ledger_entries WHERE idx >= $1 ORDER BY idx', [victim])) as Array<{ i: number; entry: string }>;
      const [before] = (await tx.query('SELECT chain_hash FROM ledger_entries WHERE idx = $1', [victim - 1])) as Array<{ chain_hash: Uint8Array }>;
      let chain: Uint8Array = new Uint8Array(before!.chain_hash);
      for (const r of rows) {
        const entry = JSON.parse(r.entry) as LedgerEntry;
        if (r.i === victim) entry.actor = `${entry.actor}x`;
        const text = canonicalEntryText(entry);
        const leaf = leafHashOfText(text);
        chain = chainHash(chain, leaf);
        await tx.query('UPDATE ledger_entries SET entry = $1, leaf_hash = $2, chain_hash = $3 WHERE idx = $4', [text, leaf, chain, r.i]);
      }
      await tx.query('ALTER TABLE ledger_entries ENABLE TRIGGER USER');
    });
    try {
      await go(page, '#/catalog');
      await go(page, '#/ledger');
      await page.getByRole('button', { name: 'Verify the whole ledger' }).click();
      await page.locator('#verify-bad').waitFor();
      expect(await text(page, '#first-bad')).toContain(`first bad index ${victim}`);
      // Named through inclusion proofs the worker asked the page for.
      expect(await text(page, '#verify-bad')).toMatch(new RegExp(`entry ${victim}: its bytes .* commits to`));
      await shot(page, 'auditor-tampered');
      await page.locator('#checkpoint').scrollIntoViewIfNeeded();
      await smallShot(page, 'ledger-tampered');
    } finally {
      await ctx.ds.transaction(async (tx) => {
        await tx.query('ALTER TABLE ledger_entries DISABLE TRIGGER USER');
        await tx.query('DELETE FROM ledger_entries');
        await tx.query('INSERT INTO ledger_entries SELECT * FROM ledger_entries_backup');
        await tx.query('DROP TABLE ledger_entries_backup');
        await tx.query('ALTER TABLE ledger_entries ENABLE TRIGGER USER');
      });
    }
  });

  it('refuses a checkpoint signed by another key than the pinned one, with a clear message', async () => {
    const page = pages.auditor!;
    const origin = ctx.services.ledger.verifierKey().split('+')[0]!;
    const foreign = verifierKey(origin, generateKeyPair().publicKey);
    await page.locator('summary').click();
    await page.getByLabel('Pinned log key').fill(foreign);
    await page.getByRole('button', { name: 'Pin these keys' }).click();
    await page.locator('#checkpoint-refused').waitFor();
    expect(await text(page, '#checkpoint-refused')).toContain('not signed by the log key you pinned');
    expect(await text(page, '#checkpoint-refused')).toContain(`note is not signed by key ${origin}+`);
    expect(await page.locator('#verify-all').count()).toBe(0);
  });

  it('checks witness cosignatures against the pinned witness keys and quorum', async () => {
    const page = pages.auditor!;
    const witness = generateKeyPair();
    const other = generateKeyPair();
    const vkey = cosignerVerifierKey('witness.example', witness.publicKey);
    const otherVkey = cosignerVerifierKey('witness2.example', other.publicKey);
    // The real checkpoint, with a cosignature line added as a witness would (the service gathers none here).
    await page.context().route('**/v1/ledger/checkpoint', async (route) => {
      const res = await route.fetch();
      const note = await res.text();
      const line = cosign(splitNote(note).body, 'witness.example', witness.secretKey, Math.floor(Date.now() / 1000));
      await route.fulfill({ response: res, body: addSignatures(note, [line]) });
    });
    try {
      await page.locator('summary').click();
      await page.getByLabel('Pinned log key').fill(ctx.services.ledger.verifierKey());
      await page.getByLabel('Witness keys (one per line, optional)').fill(vkey);
      await page.getByLabel('Witness cosignatures required').fill('1');
      await page.getByRole('button', { name: 'Pin these keys' }).click();
      await page.locator('#witness-status').waitFor();
      expect(await text(page, '#witness-status')).toContain('Cosigned by 1 of 1 pinned witness(es) (quorum 1): witness.example');
      await page.locator('summary').click();
      await page.getByLabel('Witness keys (one per line, optional)').fill(`${vkey}\n${otherVkey}`);
      await page.getByLabel('Witness cosignatures required').fill('2');
      await page.getByRole('button', { name: 'Pin these keys' }).click();
      await page.locator('#checkpoint-refused').waitFor();
      expect(await text(page, '#checkpoint-refused')).toContain('the witness quorum you pinned is not met');
      expect(await text(page, '#checkpoint-refused')).toContain('missing: witness2.example');
    } finally {
      await page.context().unroute('**/v1/ledger/checkpoint');
      await page.locator('summary').click();
      await page.getByLabel('Witness keys (one per line, optional)').fill('');
      await page.getByLabel('Witness cosignatures required').fill('0');
      await page.getByRole('button', { name: 'Pin these keys' }).click();
      await page.locator('#checkpoint-ok').waitFor();
    }
  });

  it('verifies the job receipt the institute saved (tlog-proof) offline on the drop page, and refuses an altered one', async () => {
    const page = pages.auditor!;
    const receipt = fs.readFileSync(path.join(dir, 'receipt.tlog-proof'), 'utf8');
    const file = path.join(dir, 'receipt-copy.tlog-proof');
    fs.writeFileSync(file, receipt);
    await go(page, '#/verify-file');
    expect(await page.getByLabel('Log key').inputValue()).toBe(ctx.services.ledger.verifierKey());
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict').waitFor();
    expect(await text(page, '#file-verdict')).toMatch(/Receipt valid: ledger entry \d+ \(job\.authorized\)/);
    fs.writeFileSync(file, receipt.replace(/extra (\S+)/, (_m, b64: string) => `extra ${Buffer.from(Buffer.from(b64, 'base64').toString().replace('"actor":"', '"actor":"x')).toString('base64')}`));
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict', { hasText: 'Receipt INVALID' }).waitFor();
    expect(await text(page, '#file-verdict')).toContain('not proven included');
  });

  it('verifies an exported contract file offline on the drop page', async () => {
    const page = pages.institute!;
    await go(page, `#/contracts?id=${contractId}`);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export for offline verification' }).click();
    const file = path.join(dir, 'contract.json');
    await (await download).saveAs(file);
    await go(page, '#/verify-file');
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict').waitFor();
    expect(await text(page, '#file-verdict')).toContain(`Contract ${contractId}: valid`);
    const exported = JSON.parse(fs.readFileSync(file, 'utf8')) as { document: { maxInvocations: number } };
    exported.document.maxInvocations = 3;
    fs.writeFileSync(file, JSON.stringify(exported));
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict', { hasText: 'INVALID' }).waitFor();
    await shot(page, 'verify-file');
  });

  it('never sent a private key, in any request body or header, and the pages raised no errors', () => {
    expect(sent.length).toBeGreaterThan(30);
    const secrets = [...Object.values(actors).map((a) => a.privateJwk.d), ctx.operator.privateJwk.d];
    for (const r of sent) {
      const everything = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      for (const d of secrets) expect(everything).not.toContain(d);
    }
    for (const r of sent) expect(new URL(r.url).origin).toBe(base);
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
