/**
 * The dataset catalog: providers publish and withdraw; participants browse
 * with filters and stable keyset pagination. Withdrawal stops every further
 * release at once because every release re-reads the dataset's status.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { invalidField, invalidTransition, mismatch, notFound, notOwner } from '../errors.js';
import { lockReciprocityFacts } from '../reciprocity/reciprocity-lock.js';
import { bumpVersion } from '../reciprocity/reciprocity.store.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import type { Principal } from '../principal.js';
import { decodeCursor, encodeCursor } from '../db/keyset-cursor.js';
import { DatasetEntity } from './dataset.entity.js';
import type { DatasetView } from './dataset-view.js';
import { attestedAt, markAttested, markContractsWithdrawn, markWithdrawn } from './datasets.store.js';
import { distributionUrlProblem } from './distribution-url.js';
import type { DatasetQueryV1, DatasetV1 } from '../generated/contracts.js';

/** Body of a publication (already schema-checked): the type generated from dataset.v1. */
export type DatasetInput = DatasetV1;

/** Catalog filters (dataset-query.v1 after validation, which fills in the default limit). */
export type DatasetQuery = DatasetQueryV1 & { limit: number };

/** Map a row to its API view. */
export function datasetView(d: DatasetEntity): DatasetView {
  return {
    id: d.id,
    providerId: d.providerId,
    title: d.title,
    description: d.description,
    researchField: d.researchField,
    kind: d.kind,
    distribution: d.distribution,
    license: d.license,
    schema: d.schema,
    status: d.status,
    publishedAt: d.publishedAt.toISOString(),
    withdrawnAt: d.withdrawnAt?.toISOString() ?? null,
  };
}

/** Catalog operations. */
export class DatasetsService {
  constructor(private readonly ds: DataSource, private readonly devMode: boolean) {}

  /** Provider: publish a dataset (distribution URL checked against the URL rule). */
  async publish(actor: Principal, input: DatasetInput): Promise<DatasetView> {
    const problem = distributionUrlProblem(input.distribution.url, this.devMode);
    if (problem) {
      // The usual cause is a local trial (a gateway on localhost, plain http): say how to allow it, and that it is for trials only.
      const devModeWouldAllow = !this.devMode && distributionUrlProblem(input.distribution.url, true) === null;
      const hint = devModeWouldAllow ? '; for local trials the operator can start the service with TDS_DEV_MODE=true (never in production)' : '';
      throw invalidField('/distribution/url', problem, `distribution.url refused: ${problem}${hint}`);
    }
    const names = ((input.schema as { columns?: Array<{ name: string }> } | undefined)?.columns ?? []).map((c) => c.name);
    const dup = names.findIndex((n, i) => names.indexOf(n) !== i);
    if (dup >= 0) throw invalidField(`/schema/columns/${dup}/name`, 'duplicate column name', `column ${names[dup]} is declared twice`);
    return inTransaction(this.ds, async (tx) => {
      const repo = tx.getRepository(DatasetEntity);
      const saved = await repo.save(
        repo.create({
          providerId: actor.participantId,
          title: input.title,
          description: input.description,
          researchField: input.researchField,
          kind: input.kind,
          distribution: { url: input.distribution.url, sha256: input.distribution.sha256, byteSize: input.distribution.byteSize, mediaType: input.distribution.mediaType },
          license: input.license ?? null,
          schema: input.schema ?? null,
          status: 'published',
          withdrawnAt: null,
        }),
      );
      const d = await repo.findOneByOrFail({ id: saved.id });
      // A new dataset without an offer yet is withheld, which a share-all rule counts against its provider:
      // the same lock and version as a withdrawal, so no release to it is decided on facts without it.
      await lockReciprocityFacts(tx, actor.participantId, [d.researchField]);
      await bumpVersion(tx, actor.participantId, d.researchField);
      await appendEvent(tx, {
        kind: 'dataset.published',
        actor: actor.participantId,
        subjects: { dataset: d.id, provider: actor.participantId },
        data: { researchField: d.researchField, kind: d.kind, sha256: d.distribution.sha256, byteSize: d.distribution.byteSize },
      });
      return datasetView(d);
    });
  }

  /** Owning provider: withdraw; stays visible as withdrawn, no new offers, contracts or releases. */
  async withdraw(actor: Principal, id: string): Promise<DatasetView> {
    return inTransaction(this.ds, async (tx) => {
      const seen = await tx.getRepository(DatasetEntity).findOneBy({ id });
      if (!seen) throw notFound('dataset', id);
      if (seen.providerId !== actor.participantId) throw notOwner('only the providing participant can withdraw this dataset');
      if (seen.status === 'withdrawn') throw invalidTransition('dataset', 'withdrawn', 'withdraw');
      // The contracts first, then the dataset's row (the order of signing and the data node's calls): releases
      // in flight on them commit before this, later ones see the withdrawal (datasets.store.ts).
      await markContractsWithdrawn(tx, id);
      const d = await this.lockForUpdate(tx, id);
      if (d.status === 'withdrawn') throw invalidTransition('dataset', 'withdrawn', 'withdraw');
      // The provider's own releases under reciprocity rules in this field hold the same lock, and the ones
      // decided without it check the version this bumps: none is decided on facts that still count this
      // dataset once the withdrawal has committed.
      await lockReciprocityFacts(tx, d.providerId, [d.researchField]);
      await bumpVersion(tx, d.providerId, d.researchField);
      await markWithdrawn(tx, id);
      await appendEvent(tx, { kind: 'dataset.withdrawn', actor: actor.participantId, subjects: { dataset: id, provider: d.providerId }, data: {} });
      return datasetView(await tx.getRepository(DatasetEntity).findOneByOrFail({ id }));
    });
  }

  /**
   * Owning provider (its data node): the file it holds for the dataset has the
   * published SHA-256 and size. Refused (ATTESTATION_MISMATCH, nothing
   * written) unless both match; recorded once as `dataset.attested`. From then
   * on the dataset counts as a contribution for reciprocity, on the
   * provider's signed word (weaker than another participant's verified job,
   * and on record in the ledger if it proves false).
   */
  async attest(actor: Principal, id: string, body: { sha256: string; byteSize: number }): Promise<{ id: string; attestedAt: string }> {
    return inTransaction(this.ds, async (tx) => {
      const d = await this.lockForUpdate(tx, id);
      if (d.providerId !== actor.participantId) throw notOwner('only the providing participant attests its dataset');
      if (d.status === 'withdrawn') throw invalidTransition('dataset', 'withdrawn', 'attest');
      if (body.sha256 !== d.distribution.sha256 || body.byteSize !== d.distribution.byteSize) {
        throw mismatch('ATTESTATION_MISMATCH', `the attested file (sha256 ${body.sha256}, ${body.byteSize} bytes) is not the published distribution (sha256 ${d.distribution.sha256}, ${d.distribution.byteSize} bytes)`);
      }
      const marked = await markAttested(tx, id);
      if (marked) {
        await appendEvent(tx, { kind: 'dataset.attested', actor: actor.participantId, subjects: { dataset: id, provider: d.providerId }, data: { sha256: body.sha256, byteSize: body.byteSize } });
        return { id, attestedAt: marked.toISOString() };
      }
      return { id, attestedAt: (await attestedAt(tx, id)).toISOString() };
    });
  }

  /** One dataset; NOT_FOUND for unknown ids (malformed ones are refused at the edge, see http/params.ts). */
  async get(id: string, tx: EntityManager = this.ds.manager): Promise<DatasetView> {
    const d = await tx.getRepository(DatasetEntity).findOneBy({ id });
    if (!d) throw notFound('dataset', id);
    return datasetView(d);
  }

  /** The dataset row locked FOR UPDATE inside a caller's transaction: the caller is about to change it. */
  async lockForUpdate(tx: EntityManager, id: string): Promise<DatasetEntity> {
    return this.lockedRow(tx, id, 'pessimistic_write');
  }

  /**
   * The dataset row locked FOR SHARE inside a caller's transaction: concurrent
   * readers (offers, proposals) proceed together, a withdrawal waits for them
   * and they for it, so none acts on a dataset withdrawn under it.
   */
  async lockForShare(tx: EntityManager, id: string): Promise<DatasetEntity> {
    return this.lockedRow(tx, id, 'pessimistic_read');
  }

  private async lockedRow(tx: EntityManager, id: string, mode: 'pessimistic_write' | 'pessimistic_read'): Promise<DatasetEntity> {
    const d = await tx.getRepository(DatasetEntity).findOne({ where: { id }, lock: { mode } });
    if (!d) throw notFound('dataset', id);
    return d;
  }

  /** Catalog page: filters combine (AND); ordered by publication then id, so pages stay stable under concurrent inserts. */
  async list(q: DatasetQuery): Promise<{ items: DatasetView[]; nextCursor: string | null }> {
    const qb = this.ds.getRepository(DatasetEntity).createQueryBuilder('d').orderBy('d.published_at', 'ASC').addOrderBy('d.id', 'ASC').limit(q.limit + 1);
    if (q.researchField) qb.andWhere('d.research_field = :rf', { rf: q.researchField });
    if (q.kind) qb.andWhere('d.kind = :kind', { kind: q.kind });
    if (q.provider) qb.andWhere('d.provider_id = :prov', { prov: q.provider });
    if (q.status) qb.andWhere('d.status = :status', { status: q.status });
    if (q.q) qb.andWhere(`(d.title ILIKE :q ESCAPE '\\' OR d.description ILIKE :q ESCAPE '\\')`, { q: `%${q.q.replace(/[\\%_]/g, (c) => `\\${c}`)}%` });
    if (q.cursor) {
      const [t, id] = decodeCursor(q.cursor);
      qb.andWhere('(d.published_at, d.id) > (:t, :id)', { t, id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, q.limit);
    const last = page[page.length - 1];
    return { items: page.map(datasetView), nextCursor: rows.length > q.limit && last ? encodeCursor(last.publishedAt, last.id) : null };
  }
}
