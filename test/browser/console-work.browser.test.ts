/**
 * The console's working pages in Chromium against the real service: a
 * hospital makes a compute offer with its output policy as form fields (a
 * refused policy shows the service's detail), an institute finds its
 * proposal in "My contracts" and signs it, the hospital finds it in
 * "Contracts to countersign" and countersigns the terms in words; the
 * institute submits an analysis, the hospital's data node (played here
 * through the API: the node is tested on its own) posts a signed result that
 * the policy holds for review; the jobs lists of provider, consumer and
 * reviewer show it, the result is a table with its suppressed cells and
 * groups marked, and a reviewer approves one held result and rejects
 * another with votes signed in the page. Finally the auditor pages through
 * a filtered ledger view. Every step asserts on what the page shows.
 */
import { gzipSync } from 'node:zlib';
import type { Page } from 'playwright-core';
import type { TestContext } from '../helpers/context.js';
import { makeParticipant, signed, type Actor } from '../helpers/actors.js';
import { PATIENT_COLUMNS, digestOf, passingResult, postResult, submitAnalysis } from '../helpers/compute.js';
import { datasetBody } from '../helpers/scenario.js';
import { actorPage, go, pageWidth, shot, signIn, startRig, stopRig, text, writeKeyFile, type ConsoleRig, type Sent } from './browser.js';

let rig: ConsoleRig;
let ctx: TestContext;
let base: string;
const sent: Sent[] = [];
const errors: string[] = [];
const actors: Record<'hospital' | 'institute' | 'reviewer' | 'auditor' | 'twin', Actor> = {} as never;
const pages: Record<string, Page> = {};

const title = 'ICU stays 2025 (patients)';

beforeAll(async () => {
  rig = await startRig();
  ({ ctx, base } = rig);
  actors.hospital = await makeParticipant(ctx, ['provider'], 'St. Anne Hospital');
  actors.institute = await makeParticipant(ctx, ['consumer'], 'Lung Research Institute');
  actors.reviewer = await makeParticipant(ctx, ['reviewer'], 'Output Checker Dana');
  actors.auditor = await makeParticipant(ctx, ['auditor'], 'Audit Office');
  actors.twin = await makeParticipant(ctx, ['provider', 'consumer'], 'Twin Clinic');
  for (const [name, a] of Object.entries(actors)) {
    pages[name] = (await actorPage(rig.browser, sent, errors)).page;
    await signIn(pages[name]!, base, writeKeyFile(rig.dir, name, a));
  }
});

afterAll(() => stopRig(rig));

describe('the console\u2019s contracts, jobs, results, reviews and ledger pages in Chromium', () => {
  let datasetId: string;
  let contractId: string;
  let jobId: string;

  it('keeps the first page small: the scripts and styles index.html loads are under 100 kB gzipped', async () => {
    const html = await (await fetch(`${base}/console/`)).text();
    const assets = [...html.matchAll(/(?:src|href)="(\/console\/assets\/[^"]+)"/g)].map((m) => m[1]!);
    expect(assets.some((a) => a.endsWith('.js'))).toBe(true);
    let total = 0;
    for (const a of assets) total += gzipSync(Buffer.from(await (await fetch(`${base}${a}`)).arrayBuffer())).length;
    expect(total).toBeLessThan(100_000);
  });

  it('a compute offer takes its output policy from labelled fields; a policy the service refuses shows its detail', async () => {
    const { hospital } = actors;
    const ds = await signed(ctx.app, hospital, 'post', '/v1/datasets', datasetBody({ title, schema: { columns: PATIENT_COLUMNS } }));
    expect(ds.status).toBe(201);
    datasetId = ds.body.id as string;
    const page = pages.hospital!;
    await go(page, '#/datasets');
    await page.getByRole('button', { name: `Offers on ${title}` }).click();
    await page.getByLabel('Purposes allowed').selectOption(['DUO:0000006']);
    await page.getByLabel('Invocations per contract').fill('5');
    // Raw data is offered for compute: the policy fields are there, with the defaults that will be signed.
    expect(await page.getByLabel('Minimum rows per released group').inputValue()).toBe('10');
    expect(await page.getByLabel('Round counts to multiples of').inputValue()).toBe('5');
    expect(await page.getByLabel('Dominance: share of the total (k)').inputValue()).toBe('0.9');
    expect(await page.getByLabel('Allow minimum and maximum (one person\u2019s value)').isChecked()).toBe(false);
    // By keyboard: type into the fields, tick the reviewer with Space.
    await page.getByLabel('Minimum rows per released group').fill('');
    await page.getByLabel('Minimum rows per released group').focus();
    await page.keyboard.type('8');
    await page.keyboard.press('Tab');
    await page.keyboard.press('Control+A');
    await page.keyboard.type('1');
    expect(await page.getByLabel('Round counts to multiples of').inputValue()).toBe('1');
    await page.getByLabel('Reviewer approvals before a result is released').fill('2');
    const reviewerBox = page.getByLabel(/^Output Checker Dana/);
    await reviewerBox.focus();
    await page.keyboard.press('Space');
    expect(await reviewerBox.isChecked()).toBe(true);
    await shot(page, 'provider-policy-form');
    await page.getByRole('button', { name: 'Make the offer' }).click();
    // Two approvals from one reviewer could never release anything: the service says so, the page shows it.
    await page.locator('#offer-form ~ [role=status] [role=alert]').waitFor();
    const refusal = await text(page, '#offer-form ~ [role=status] [role=alert]');
    expect(refusal).toContain('VALIDATION_FAILED');
    expect(refusal).toContain('review needs 2 approvals but names 1 reviewer(s)');
    await page.getByLabel('Reviewer approvals before a result is released').fill('1');
    await page.getByLabel('Reviewer approvals before a result is released').press('Enter');
    await page.locator('#offer-made').waitFor();
    const row = await text(page, '#dataset-offers tbody tr');
    expect(row).toContain('groups under 8 rows are not released');
    expect(row).toContain('counts rounded to multiples of 1');
    expect(row).toContain('1 of 1 named reviewer(s) must approve');
    const offers = await signed(ctx.app, hospital, 'get', `/v1/datasets/${datasetId}/offers`);
    expect(offers.body.items[0].outputPolicy).toMatchObject({ minCellCount: 8, roundTo: 1, dominance: { n: 2, k: 0.9 }, review: { approvals: 1, reviewers: [actors.reviewer.id] } });
  });

  it('the institute finds its proposal under "My contracts" and signs it from there', async () => {
    const { hospital, institute } = actors;
    const offers = await signed(ctx.app, hospital, 'get', `/v1/datasets/${datasetId}/offers`);
    const proposed = await signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: offers.body.items[0].id, purposes: ['DUO:0000006'], maxInvocations: 4 });
    expect(proposed.status).toBe(201);
    contractId = proposed.body.id as string;
    const page = pages.institute!;
    await go(page, '#/contracts');
    expect(await text(page, '#contract-list-title')).toBe('My contracts');
    const row = page.locator('#contract-pages tbody tr', { has: page.locator(`a[data-contract="${contractId}"]`) });
    await row.waitFor();
    const cells = await row.locator('td').allTextContents();
    expect(cells.slice(0, 5)).toEqual([title, 'St. Anne Hospital', 'Lung Research Institute', expect.stringContaining('health or medical or biomedical research'), '0 of 4 used']);
    expect(cells[6]).toBe('proposed');
    await row.getByRole('link', { name: 'Open and sign' }).click();
    await page.locator('#contract-terms', { hasText: 'state proposed' }).waitFor();
    await page.getByRole('button', { name: 'Sign these terms' }).click();
    await page.locator('#signed').waitFor();
    expect(await text(page, '#signed')).toContain('consumer_signed');
    await page.locator('#contract-pages td', { hasText: 'consumer_signed' }).waitFor();
  });

  it('the hospital finds it under "Contracts to countersign", reads the terms in words and countersigns', async () => {
    const page = pages.hospital!;
    await go(page, '#/contracts');
    expect(await text(page, '#contract-list-title')).toBe('Contracts to countersign');
    const row = page.locator('#contract-pages tbody tr', { has: page.locator(`a[data-contract="${contractId}"]`) });
    await row.waitFor();
    expect(await row.locator('td').nth(2).textContent()).toBe('Lung Research Institute');
    await shot(page, 'provider-contracts-to-countersign');
    await row.getByRole('link', { name: 'Open and countersign' }).click();
    await page.locator('#contract-terms', { hasText: 'consumer_signed' }).waitFor();
    const terms = await text(page, '#contract-terms');
    for (const words of ['St. Anne Hospital', 'Lung Research Institute', title, 'health or medical or biomedical research', 'at most 4', 'free',
      'compute at the provider', 'groups under 8 rows are not released', '1 of 1 named reviewer(s) must approve', 'Output Checker Dana']) {
      expect(terms).toContain(words);
    }
    await page.getByRole('button', { name: 'Countersign these terms' }).click();
    await page.locator('#signed').waitFor();
    expect(await text(page, '#signed')).toContain('active');
    // Nothing is left to countersign.
    await page.locator('#no-contracts').waitFor();
    expect((await signed(ctx.app, actors.hospital, 'get', `/v1/contracts/${contractId}`)).body.state).toBe('active');
  });

  it('a participant who is provider and consumer switches to "My contracts": the state filter goes back to any state', async () => {
    const { hospital, twin } = actors;
    const offers = await signed(ctx.app, hospital, 'get', `/v1/datasets/${datasetId}/offers`);
    const proposed = await signed(ctx.app, twin, 'post', '/v1/contracts', { offerId: offers.body.items[0].id, purposes: ['DUO:0000006'], maxInvocations: 1 });
    expect(proposed.status).toBe(201);
    const page = pages.twin!;
    await go(page, '#/contracts');
    await page.locator('#contract-pages [role=status]', { hasText: 'Page 1' }).waitFor();
    expect(await page.getByLabel('Show').inputValue()).toBe('provider');
    expect(await page.getByLabel('State').inputValue()).toBe('consumer_signed');
    expect(await text(page, '#contract-list-title')).toBe('Contracts to countersign');
    await page.getByLabel('Show').selectOption('consumer');
    // "My contracts" lists any state (docs/console.md), so the provider's filter does not carry over.
    expect(await page.getByLabel('State').inputValue()).toBe('');
    expect(await text(page, '#contract-list-title')).toBe('My contracts');
    await page.getByRole('button', { name: 'List' }).click();
    const row = page.locator('#contract-pages tbody tr', { has: page.locator(`a[data-contract="${proposed.body.id}"]`) });
    await row.waitFor();
    expect(await row.getByRole('link', { name: 'Open and sign' }).count()).toBe(1);
  });

  it('the contract list pages forward and back with the service\u2019s cursor', async () => {
    const { hospital, institute } = actors;
    const offers = await signed(ctx.app, hospital, 'get', `/v1/datasets/${datasetId}/offers`);
    for (let i = 0; i < 20; i++) {
      expect((await signed(ctx.app, institute, 'post', '/v1/contracts', { offerId: offers.body.items[0].id, purposes: ['DUO:0000006'], maxInvocations: 1 })).status).toBe(201);
    }
    const page = pages.institute!;
    await go(page, '#/catalog');
    await go(page, '#/contracts');
    const ids = () => page.locator('#contract-pages tbody a[data-contract]').evaluateAll((as) => as.map((a) => a.getAttribute('data-contract')));
    await page.getByRole('button', { name: 'Next page' }).waitFor();
    const first = await ids();
    expect(first).toHaveLength(20);
    // Oldest first: the contract signed before is the first row.
    expect(first[0]).toBe(contractId);
    await page.getByRole('button', { name: 'Next page' }).click();
    await page.getByRole('button', { name: 'Previous page' }).waitFor();
    const second = await ids();
    expect(second).toHaveLength(1);
    expect(first).not.toContain(second[0]);
    expect(await page.getByRole('button', { name: 'Next page' }).count()).toBe(0);
    await page.getByRole('button', { name: 'Previous page' }).click();
    await page.getByRole('button', { name: 'Next page' }).waitFor();
    expect(await ids()).toEqual(first);
  });

  it('the institute submits an analysis; the data node\u2019s signed result is held; provider and consumer see it in their job lists', async () => {
    const { hospital } = actors;
    const page = pages.institute!;
    await go(page, '#/catalog');
    await go(page, `#/contracts?id=${contractId}`);
    await page.locator('#contract-terms', { hasText: 'state active' }).waitFor();
    await page.getByLabel('Group by').selectOption(['sex']);
    await page.getByLabel('Measure', { exact: true }).selectOption('mean');
    await page.getByLabel('of column').selectOption('los_days');
    // A filter value that does not fit its column is caught in the page, in words, before anything is asked.
    await page.getByLabel('Filter on').selectOption('age');
    await page.getByLabel('Value', { exact: true }).fill('abc');
    await page.getByRole('button', { name: 'Submit the analysis' }).click();
    await page.locator('#job-form ~ [role=status] [role=alert]').waitFor();
    expect(await text(page, '#job-form ~ [role=status] [role=alert]')).toBe('the filter value \u201cabc\u201d does not fit age, an integer column: give a whole number, such as 42 or -7 (within \u00b1(2^53 \u2212 1))');
    expect(await page.locator('#job-confirm').count()).toBe(0);
    await page.getByLabel('Filter on').selectOption('');
    await page.getByRole('button', { name: 'Submit the analysis' }).click();
    await page.locator('#job-confirm').waitFor();
    expect(await text(page, '#job-confirm')).toContain('This uses 1 of the 4 invocations left on this contract (of 4; 3 will be left). An analysis is counted when it is submitted');
    await page.getByRole('button', { name: 'Use an invocation: submit the analysis' }).click();
    await page.locator('#job-created').waitFor();
    jobId = /Job (\S+): queued\./.exec(await text(page, '#job-created'))![1]!;
    // The hospital's data node claims the job and posts its signed, disclosure-checked result.
    const claim = await signed(ctx.app, hospital, 'post', `/v1/jobs/${jobId}/claim`);
    expect(claim.status).toBe(200);
    const posted = await postResult(ctx, hospital, jobId, passingResult(claim.body, {
      disclosure: { policy: claim.body.document.outputPolicy, checks: [{ check: 'minCellCount', outcome: 'suppressed', cells: 1 }, { check: 'dominance', outcome: 'suppressed', cells: 1 }], suppressedRows: 1, rounded: false, noise: null },
    }));
    expect(posted.body.state).toBe('held');

    const hp = pages.hospital!;
    await go(hp, '#/jobs');
    expect(await hp.getByLabel('Show').inputValue()).toBe('provider');
    const hrow = hp.locator('#job-pages tbody tr', { has: hp.locator(`a[data-job="${jobId}"]`) });
    await hrow.waitFor();
    expect(await hrow.locator('td').allTextContents()).toEqual([jobId.slice(0, 8), title, expect.stringContaining('DUO:0000006'), 'held for review', expect.stringMatching(/UTC$/)]);
    await hrow.getByRole('link').click();
    await hp.locator('#result-table').waitFor();
    expect(await text(hp, '#job-state')).toBe('held for review');
    // The heading says what the result is, and the provider's signature was checked with the directory's keys.
    expect(await text(hp, '#result-title')).toBe('Result held for review (not released)');
    expect(await text(hp, '#result-table caption')).toBe('Result held for review (not released)');
    expect(await text(hp, '#result-checked')).toContain(`Provider\u2019s signature verified: signed by St. Anne Hospital with key ${hospital.kid} (key from the service\u2019s participant directory)`);
    // The provider sees the held result but does not vote on it.
    expect(await text(hp, '#job-result-view')).toContain('Held until the reviewers named');
    expect(await hp.getByRole('button', { name: 'Approve release' }).count()).toBe(0);

    await go(page, '#/jobs');
    const crow = page.locator('#job-pages tbody tr', { has: page.locator(`a[data-job="${jobId}"]`) });
    await crow.waitFor();
    expect(await crow.locator('td').nth(3).textContent()).toBe('held for review');
    await crow.getByRole('link').click();
    // The consumer cannot read a held result: the service's problem is shown as it is.
    await page.locator('#job-result-view [role=alert]').waitFor();
    expect(await text(page, '#job-result-view [role=alert]')).toContain('RESULT_NOT_AVAILABLE');
    expect(await text(page, '#job-result-view [role=alert]')).toContain('the result is not released (job held)');
  });

  it('a result that fails the page\u2019s checks is refused and not shown as a table: altered rows, even with the digests the service answers altered to match', async () => {
    const page = pages.hospital!;
    // What a compromised service (or anything between it and the page) could send: other rows, and with
    // matchDigests the digests in both answers (the job's and the result's) changed to those rows' digest.
    const real = (await signed(ctx.app, actors.hospital, 'get', `/v1/jobs/${jobId}/result`)).body as { result: { rows: unknown[][] } };
    const altered = JSON.parse(JSON.stringify(real.result)) as typeof real.result;
    altered.rows[0]![1] = 5;
    const alteredDigest = digestOf(altered);
    const alter = async (matchDigests: boolean) => {
      await page.route(`**/v1/jobs/${jobId}/result`, async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as { result: unknown; resultDigest: string };
        body.result = altered;
        if (matchDigests) body.resultDigest = alteredDigest;
        await route.fulfill({ response: res, body: JSON.stringify(body) });
      });
      await page.route(`**/v1/jobs/${jobId}`, async (route) => {
        const res = await route.fetch();
        const body = (await res.json()) as { resultDigest: string };
        if (matchDigests) body.resultDigest = alteredDigest;
        await route.fulfill({ response: res, body: JSON.stringify(body) });
      });
    };
    try {
      for (const matchDigests of [false, true]) {
        await alter(matchDigests);
        await go(page, '#/catalog');
        await go(page, `#/jobs?id=${jobId}`);
        await page.locator('#result-refused').waitFor();
        const refused = await text(page, '#result-refused');
        // Only the provider's signature tells this result from the real one.
        if (matchDigests) expect(refused).toMatch(/^Do not rely on what the service sent as this job\u2019s result:the provider's signature does not verify over the result's bytes with any key the directory lists for St\. Anne Hospital \([0-9a-f-]+\)$/);
        else expect(refused).toContain('not to the digest the service recorded');
        expect(await text(page, '#result-title')).toBe('Result refused: it fails this page\u2019s checks');
        expect(await page.locator('#result-table').count()).toBe(0);
        expect(await page.getByRole('button', { name: 'Approve release' }).count()).toBe(0);
        await page.unrouteAll();
      }
      await shot(page, 'provider-result-refused');
    } finally {
      await page.unrouteAll();
    }
  });

  it('the reviewer sees the held result as a table with suppressed cells and groups marked, and approves it with a vote signed in the page', async () => {
    const page = pages.reviewer!;
    await go(page, '#/jobs');
    expect(await page.getByLabel('Show').inputValue()).toBe('reviewer');
    expect(await page.getByLabel('State').inputValue()).toBe('held');
    const row = page.locator('#job-pages tbody tr', { has: page.locator(`a[data-job="${jobId}"]`) });
    await row.waitFor();
    await row.getByRole('link').click();
    await page.locator('#result-table').waitFor();
    expect(await page.locator('#result-table thead th').allTextContents()).toEqual(['sex', 'count', 'mean_los_days']);
    const body = await page.locator('#result-table tbody tr').evaluateAll((trs) => trs.map((tr) => [...tr.querySelectorAll('td')].map((td) => `${td.textContent}${td.classList.contains('suppressed') ? '*' : ''}`)));
    expect(body).toEqual([['F', '520', '4.25'], ['M', '475', 'suppressed*']]);
    expect(await text(page, '#suppressed-rows')).toBe('1 group suppressed (fewer than 8 rows): not shown');
    expect(await page.locator('#suppressed-rows').getAttribute('class')).toContain('suppressed');
    await shot(page, 'reviewer-held-result');
    await page.getByRole('button', { name: 'Approve release' }).click();
    await page.locator('#vote-recorded').waitFor();
    expect(await text(page, '#vote-recorded')).toBe('Your signed approval is recorded (1 of 1 approvals); the job is now completed.');
    expect(await text(page, '#job-state')).toBe('completed');

    // Released: now the consumer reads the same table.
    const consumer = pages.institute!;
    await go(consumer, '#/catalog');
    await go(consumer, `#/jobs?id=${jobId}`);
    await consumer.locator('#result-table').waitFor();
    expect(await text(consumer, '#job-state')).toBe('completed');
    expect(await text(consumer, '#result-title')).toBe('Result released under the contract\u2019s output policy');
    expect(await consumer.locator('#result-table td.suppressed').allTextContents()).toEqual(['suppressed']);
    expect(await text(consumer, '#result-table tbody')).toContain('520');
    await shot(consumer, 'consumer-released-result');
  });

  it('the reviewer rejects another held result; the job shows rejected', async () => {
    const { hospital, institute } = actors;
    const submitted = await submitAnalysis(ctx, institute, contractId);
    expect(submitted.status).toBe(201);
    const id = submitted.body.id as string;
    const claim = await signed(ctx.app, hospital, 'post', `/v1/jobs/${id}/claim`);
    expect((await postResult(ctx, hospital, id, passingResult(claim.body))).body.state).toBe('held');
    const page = pages.reviewer!;
    await go(page, '#/catalog');
    await go(page, '#/jobs');
    const row = page.locator('#job-pages tbody tr', { has: page.locator(`a[data-job="${id}"]`) });
    await row.waitFor();
    // The job approved before is no longer held.
    expect(await page.locator(`#job-pages a[data-job="${jobId}"]`).count()).toBe(0);
    await row.getByRole('link').click();
    await page.locator('#result-table').waitFor({ timeout: 10000 }).catch(async (e: Error) => {
      throw new Error(`${e.message}\n${await text(page, '#job-detail')}`);
    });
    await page.getByLabel('Comment (optional)').fill('the M row is too close to the threshold');
    await page.getByRole('button', { name: 'Reject' }).click();
    await page.locator('#vote-recorded').waitFor();
    expect(await text(page, '#vote-recorded')).toContain('Your signed rejection is recorded');
    expect(await text(page, '#vote-recorded')).toContain('the job is now rejected');
    expect(await text(page, '#job-state')).toBe('rejected');
    expect((await signed(ctx.app, institute, 'get', `/v1/jobs/${id}`)).body.state).toBe('rejected');
    // The provider's page: the reason in words beside its code, and a heading that says the result was rejected.
    const hp = pages.hospital!;
    await go(hp, '#/catalog');
    await go(hp, `#/jobs?id=${id}`);
    await hp.locator('#result-title', { hasText: 'rejected' }).waitFor();
    expect(await text(hp, '#job-reason')).toBe('a reviewer named in the output policy rejected the result (REVIEW_REJECTED)');
    expect(await text(hp, '#result-title')).toBe('Result rejected (not released)');
    expect(await text(hp, '#result-table caption')).toBe('Result rejected (not released)');
  });

  it('the auditor pages through a filtered ledger view: the next page continues after the last entry shown, every proof verified', async () => {
    const { hospital } = actors;
    for (let i = 0; i < 22; i++) expect((await signed(ctx.app, hospital, 'post', '/v1/datasets', datasetBody({ title: `Filler ${i}` }))).status).toBe(201);
    await ctx.services.ledger.flush();
    const page = pages.auditor!;
    await go(page, '#/ledger');
    await page.getByRole('button', { name: 'Show the key the service announces' }).click();
    await page.locator('#announced-key').waitFor();
    await page.getByRole('button', { name: 'Pin these keys' }).click();
    await page.locator('#checkpoint-ok').waitFor();
    await page.getByLabel('Kind').fill('dataset.published');
    await page.getByRole('button', { name: 'Show', exact: true }).click();
    await page.locator('#ledger-next').waitFor();
    const indexes = async () => (await page.locator('#entries tbody tr td:nth-child(1)').allTextContents()).map(Number);
    const kinds = () => page.locator('#entries tbody tr td:nth-child(2)').allTextContents();
    const first = await indexes();
    expect(first).toHaveLength(20);
    expect(new Set(await kinds())).toEqual(new Set(['dataset.published']));
    await page.locator('.proof-ok').nth(19).waitFor();
    expect(await page.locator('.proof-bad').count()).toBe(0);
    await page.locator('#ledger-next').click();
    await page.waitForFunction(`location.hash.includes('start=${first[19]! + 1}')`);
    await page.locator('#entries tbody tr').first().waitFor();
    await page.locator('#entries [role=status]', { hasText: 'no more match' }).waitFor();
    const second = await indexes();
    // 23 datasets in all (the one offered and 22 fillers): the rest, after the first page, none repeated.
    expect(second).toHaveLength(3);
    expect(Math.min(...second)).toBeGreaterThan(Math.max(...first));
    expect(new Set(await kinds())).toEqual(new Set(['dataset.published']));
    await page.locator('.proof-ok').nth(2).waitFor();
    expect(await page.locator('.proof-bad').count()).toBe(0);
    expect(await page.locator('#ledger-next').count()).toBe(0);
    await shot(page, 'auditor-ledger-filtered-page2');
    await page.getByRole('link', { name: 'First page' }).click();
    await page.locator('#ledger-next').waitFor();
    expect(await indexes()).toEqual(first);
  });

  it('fits a 390 px wide phone: the compute contract, a job with its result table, the job list and the filtered ledger', async () => {
    const fits = async (page: Page, what: string) => {
      const w = await pageWidth(page);
      expect({ what, wide: w.wide }).toEqual({ what, wide: [] });
      expect(w.scrollWidth).toBeLessThanOrEqual(390);
    };
    const { institute, hospital, auditor } = pages as Record<string, Page>;
    for (const page of [institute!, hospital!, auditor!]) await page.setViewportSize({ width: 390, height: 844 });
    try {
      await go(institute!, '#/catalog');
      await go(institute!, `#/contracts?id=${contractId}`);
      await institute!.locator('#contract-terms', { hasText: 'state active' }).waitFor();
      await institute!.locator('#analysis-form').waitFor();
      await institute!.locator('#contract-pages table').waitFor();
      await fits(institute!, 'compute contract page');
      await shot(institute!, 'phone-compute-contract');
      await go(hospital!, '#/catalog');
      await go(hospital!, `#/jobs?id=${jobId}`);
      await hospital!.locator('#result-table').waitFor();
      await hospital!.locator('#job-pages table').waitFor();
      await fits(hospital!, 'job page with its result');
      await shot(hospital!, 'phone-job-result');
      await go(auditor!, '#/catalog');
      await go(auditor!, '#/ledger?kind=dataset.published');
      await auditor!.locator('.proof-ok').first().waitFor();
      await fits(auditor!, 'filtered ledger');
      await shot(auditor!, 'phone-ledger-filtered');
    } finally {
      for (const page of [institute!, hospital!, auditor!]) await page.setViewportSize({ width: 1280, height: 900 });
    }
  });

  it('never sent a private key, and the pages raised no errors', () => {
    expect(sent.length).toBeGreaterThan(30);
    const secrets = Object.values(actors).map((a) => a.privateJwk.d);
    for (const r of sent) {
      const everything = `${r.url}\n${JSON.stringify(r.headers)}\n${r.body}`;
      for (const d of secrets) expect(everything).not.toContain(d);
      expect(new URL(r.url).origin).toBe(base);
    }
    expect(errors.filter((e) => !/Failed to load resource/.test(e))).toEqual([]);
  });
});
