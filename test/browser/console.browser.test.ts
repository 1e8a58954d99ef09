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
import { makeParticipant, newKey, publicOf, register, signed, type Actor } from '../helpers/actors.js';
import { generateKeyPair, secretKeyFromJwk, sign } from '../../src/crypto/ed25519.js';
import { canonicalizeContract, type ContractDocument } from '../../src/agreements/contract-document.js';
import { sha256, toBase64Url, toHex, utf8 } from '../../src/crypto/sha256.js';
import { verifierKey } from '../../src/ledger/checkpoint.js';
import { chainHash } from '../../src/ledger/chain.js';
import { canonicalEntryText, leafHashOfText, type LedgerEntry } from '../../src/ledger/ledger-entry.js';
import { cosign, cosignerVerifierKey } from '../../src/ledger/cosignature.js';
import { addSignatures, splitNote } from '../../src/ledger/note.js';
import { actorPage, brokenWords, go, pageWidth, shot, signIn, smallShot, startRig, stopRig, text, writeKeyFile, type ConsoleRig, type Sent } from './browser.js';

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
  let downloadJobId: string;

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
    expect(await page.locator('#publish-form label', { hasText: 'Description' }).textContent()).toBe('Description (required)');
    await page.getByRole('button', { name: 'Publish' }).click();
    await page.locator('#published').waitFor();
    expect(await text(page, '#published')).toContain(title);
    // Cleared after success: a second press of Publish cannot publish the same dataset again.
    expect(await page.getByLabel('Title').inputValue()).toBe('');
    expect(await page.getByLabel('Description').inputValue()).toBe('');
    expect(await text(page, '#file-digest')).toBe('No file chosen yet.');
    await page.getByRole('button', { name: `Offers on ${title}` }).click();
    await page.getByLabel('Purposes allowed').selectOption(['DUO:0000042']);
    await page.getByLabel('Invocations per contract').fill('3');
    await page.getByRole('button', { name: 'Make the offer' }).click();
    await page.locator('#offer-made').waitFor();
    await page.locator('#dataset-offers td', { hasText: 'general research use' }).first().waitFor();
    // The offer's price is listed (free: no price given), as the docs promise.
    expect(await page.locator('#dataset-offers thead th').allTextContents()).toContain('Price');
    expect(await page.locator('#dataset-offers tbody td[data-label="Price"]').first().textContent()).toBe('free');
    // At 1280 px table cells keep their words whole ("cardiology", "download"); only ids and digests may break anywhere.
    expect(await brokenWords(page, '#my-datasets')).toEqual([]);
    expect(await brokenWords(page, '#dataset-offers')).toEqual([]);
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

  it('the institute runs a job under the active contract: asked to confirm first, then shown the release token and the commands that fetch the file', async () => {
    const page = pages.institute!;
    await go(page, '#/catalog');
    await go(page, `#/contracts?id=${contractId}`);
    await page.locator('#contract-terms', { hasText: 'state active' }).waitFor();
    const jobPosts = () => sent.filter((r) => r.method === 'POST' && new URL(r.url).pathname === '/v1/jobs').length;
    const before = jobPosts();
    await page.getByRole('button', { name: 'Run a job (release the dataset)' }).click();
    // Nothing is spent before the confirmation, which says how many invocations are left.
    await page.locator('#job-confirm').waitFor();
    expect(await text(page, '#job-confirm')).toContain('This uses 1 of the 2 invocations left on this contract (of 2; 1 will be left).');
    expect(jobPosts()).toBe(before);
    await page.getByRole('button', { name: 'Cancel' }).click();
    expect(await page.locator('#job-confirm').count()).toBe(0);
    expect(jobPosts()).toBe(before);
    await page.getByRole('button', { name: 'Run a job (release the dataset)' }).click();
    await page.getByRole('button', { name: 'Use an invocation: release the dataset' }).click();
    await page.locator('#job-created').waitFor();
    expect(jobPosts()).toBe(before + 1);
    const jobId = /Job (\S+): authorized\./.exec(await text(page, '#job-created'))![1]!;
    downloadJobId = jobId;
    // The token the service issued to the consumer, shown to copy, and the exact commands that fetch the file with it.
    const job = (await signed(ctx.app, actors.institute!, 'get', `/v1/jobs/${jobId}`)).body as { release: { token: string; url: string; sha256: string } };
    expect(await page.locator('#release-token').inputValue()).toBe(job.release.token);
    expect(await text(page, '#curl-command')).toBe(`curl -fS -o outcomes.csv -H 'Authorization: Bearer ${job.release.token}' ${base}/gateway/outcomes.csv\necho '${job.release.sha256}  outcomes.csv' | sha256sum -c -`);
    const tds = await text(page, '#tds-command');
    const key = /--idempotency-key (\S+)/.exec(tds)![1]!;
    expect(tds).toBe(`tds job run --contract ${contractId} --purpose DUO:0000042 --idempotency-key ${key} --out outcomes.csv`);
    // That command asks for this same job again: no second invocation.
    const replay = await signed(ctx.app, actors.institute!, 'post', '/v1/jobs', { contractId, purpose: 'DUO:0000042' }, {}, { 'idempotency-key': key });
    expect(replay.body.id).toBe(jobId);
    expect((await signed(ctx.app, actors.institute!, 'get', `/v1/contracts/${contractId}`)).body.invocationsUsed).toBe(1);
    // The terms shown now count it.
    await page.locator('#contract-terms', { hasText: '(1 used, 1 left)' }).waitFor();
    // The release panel, long token and all, fits a phone's width.
    await page.setViewportSize({ width: 390, height: 844 });
    const w = await pageWidth(page);
    expect(w.wide).toEqual([]);
    expect(w.scrollWidth).toBeLessThanOrEqual(390);
    await page.setViewportSize({ width: 1280, height: 900 });
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
    await page.getByRole('button', { name: 'Use an invocation: submit the analysis' }).click();
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
    // The pin's summary names the key, not only the origin: another key under the same origin shows.
    const [origin, keyId] = ctx.services.ledger.verifierKey().split('+');
    expect(await text(page, '#pinned-key')).toBe(`Pinned log key: ${origin}, key id ${keyId} (change)`);
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

  it('fits a 390 px wide phone (contract, job and ledger pages), and the focus moved to main after a navigation draws no ring', async () => {
    const fits = async (page: Page, what: string) => {
      const w = await pageWidth(page);
      expect({ what, wide: w.wide }).toEqual({ what, wide: [] });
      expect(w.scrollWidth).toBeLessThanOrEqual(390);
    };
    const institute = pages.institute!;
    const auditor = pages.auditor!;
    for (const page of [institute, auditor]) await page.setViewportSize({ width: 390, height: 844 });
    try {
      await go(institute, `#/contracts?id=${contractId}`);
      await institute.locator('#contract-terms').waitFor();
      await institute.locator('#contract-pages table, #no-contracts').first().waitFor();
      await fits(institute, 'contract page');
      await shot(institute, 'phone-contract');
      await go(institute, `#/jobs?id=${downloadJobId}`);
      await institute.locator('#job-facts').waitFor();
      await institute.locator('#job-pages table, #no-jobs').first().waitFor();
      await fits(institute, 'job page');
      await shot(institute, 'phone-job');
      // Navigating by keyboard moves focus to main (for screen readers) without a ring around the whole page.
      await institute.locator('nav a[href="#/contracts"]').focus();
      await institute.keyboard.press('Enter');
      await institute.locator('#contract-pages table').waitFor();
      await institute.waitForFunction('document.activeElement === document.getElementById("main")');
      expect(await institute.evaluate('getComputedStyle(document.activeElement).outlineStyle')).toBe('none');
      await go(auditor, '#/catalog');
      await go(auditor, '#/ledger');
      await auditor.locator('.proof-ok').first().waitFor();
      await fits(auditor, 'ledger page');
      await shot(auditor, 'phone-ledger');
    } finally {
      for (const page of [institute, auditor]) await page.setViewportSize({ width: 1280, height: 900 });
    }
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

  it('exports a contract with its keys\u2019 history and verifies it on the drop page against the directory\u2019s keys; a forged file is refused', async () => {
    const page = pages.institute!;
    await go(page, `#/contracts?id=${contractId}`);
    const download = page.waitForEvent('download');
    await page.getByRole('button', { name: 'Export for offline verification' }).click();
    const file = path.join(dir, 'contract.json');
    await (await download).saveAs(file);
    const genuine = fs.readFileSync(file, 'utf8');
    type Exported = { document: ContractDocument; canonical: string; digest: string; signatures: Array<{ participantId: string; kid: string; signature: string; signedAt?: string }>; keys: Record<string, Record<string, unknown>> };
    const exported = JSON.parse(genuine) as Exported;
    // The shape `tds contract verify --save` writes: each key with its history.
    for (const party of ['consumer', 'provider'] as const) {
      expect(exported.keys[exported.document[party].kid]).toEqual({ kty: 'OKP', crv: 'Ed25519', x: expect.any(String), createdAt: expect.any(String), revokedAt: null });
    }
    await go(page, '#/verify-file');
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict').waitFor();
    expect(await text(page, '#file-verdict')).toContain(`Contract ${contractId}: valid`);
    expect(await text(page, '#key-source')).toContain('Keys: from the service\u2019s participant directory');
    expect(await text(page, '#file-verdict')).not.toContain('without its history');

    // Terms changed and re-signed with two fresh keys, put into the file's keys member: consistent with itself, not with the directory.
    const forge = async (sameKids: boolean): Promise<{ file: string; consumerKid: string }> => {
      const forged = JSON.parse(genuine) as Exported;
      forged.document.maxInvocations = 50;
      const fresh = { consumer: await newKey(), provider: await newKey() };
      forged.keys = {};
      for (const party of ['consumer', 'provider'] as const) {
        if (!sameKids) forged.document[party].kid = fresh[party].kid;
        forged.keys[forged.document[party].kid] = publicOf(fresh[party].privateJwk);
      }
      const { canonical, digest } = canonicalizeContract(forged.document);
      forged.canonical = canonical;
      forged.digest = digest;
      forged.signatures = (['consumer', 'provider'] as const).map((party) => ({
        participantId: forged.document[party].id, kid: forged.document[party].kid, signedAt: new Date().toISOString(),
        signature: toBase64Url(sign(utf8(canonical), secretKeyFromJwk(fresh[party].privateJwk))),
      }));
      const out = path.join(dir, `forged-${sameKids ? 'same-kids' : 'new-kids'}.json`);
      fs.writeFileSync(out, JSON.stringify(forged));
      return { file: out, consumerKid: forged.document.consumer.kid };
    };
    const forgedNewKids = await forge(false);
    const forgedSameKids = await forge(true);
    await page.locator('#verify-file-input').setInputFiles(forgedNewKids.file);
    await page.locator('#file-verdict', { hasText: 'INVALID' }).waitFor();
    expect(await text(page, '#file-verdict')).toContain(`Contract ${contractId}: INVALID against the service\u2019s directory.`);
    expect(await text(page, '#file-verdict')).toContain('is not one of the keys the directory lists for Heart Research Institute');
    await page.locator('#verify-file-input').setInputFiles(forgedSameKids.file);
    await page.locator('#file-verdict', { hasText: 'the file\'s keys do not match the directory' }).waitFor();
    expect(await text(page, '#file-verdict')).toContain('INVALID against the service\u2019s directory');
    // Edited without re-signing: refused whatever the keys.
    const edited = JSON.parse(genuine) as Exported;
    edited.document.maxInvocations = 3;
    fs.writeFileSync(file, JSON.stringify(edited));
    await page.locator('#verify-file-input').setInputFiles(file);
    await page.locator('#file-verdict', { hasText: 'INVALID' }).waitFor();
    await shot(page, 'verify-file');

    // Signed out, the page can only use the file's own keys, and says what that is worth.
    const anonymous = (await actorPage(rig.browser, sent, errors)).page;
    try {
      await anonymous.goto(`${base}/console/#/verify-file`);
      fs.writeFileSync(file, genuine);
      await anonymous.locator('#verify-file-input').setInputFiles(file);
      await anonymous.locator('#file-verdict').waitFor();
      const verdict = await text(anonymous, '#file-verdict');
      expect(verdict).toContain(`Contract ${contractId}: the signatures verify with the keys the file itself carries. That proves nothing about who signed.`);
      expect(verdict).not.toContain('without its history');
      expect(await anonymous.locator('#file-verdict').getAttribute('class')).toBe('status warn');
      // The forged file is consistent with the keys it carries: the page says that this proves nothing.
      await anonymous.locator('#verify-file-input').setInputFiles(forgedNewKids.file);
      await anonymous.locator('#file-verdict', { hasText: forgedNewKids.consumerKid }).waitFor();
      expect(await text(anonymous, '#file-verdict')).toContain('That proves nothing about who signed.');
      expect(await text(anonymous, '#key-source')).toContain('Keys: from the file itself');
      await shot(anonymous, 'verify-file-signed-out');
    } finally {
      await anonymous.context().close();
    }
  });

  it('never sent a private key, in any request body or header, and the pages raised no errors', async () => {
    expect(sent.length).toBeGreaterThan(30);
    const secrets = [...Object.values(actors).map((a) => a.privateJwk.d), ctx.operator.privateJwk.d];
    for (const r of sent) {
      const everything = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      for (const d of secrets) expect(everything).not.toContain(d);
    }
    for (const r of sent) expect(new URL(r.url).origin).toBe(base);
    // The page carries its icon (a data: URL), so a browser never asks for /favicon.ico (a 404 on every load).
    expect(sent.filter((r) => new URL(r.url).pathname === '/favicon.ico').map((r) => r.url)).toEqual([]);
    expect(await pages.institute!.evaluate('document.querySelector(\'link[rel~="icon"]\')?.getAttribute("href")?.slice(0, 5) ?? null')).toBe('data:');
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
