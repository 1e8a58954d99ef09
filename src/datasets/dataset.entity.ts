/** A published dataset, as stored. */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { DatasetV1 } from '../generated/contracts.js';

/** raw: data a provider holds; insight: results derived by a consumer and shared back (dataset.v1 `kind`). */
export type DatasetKind = DatasetV1['kind'];

/** Row of `datasets`. */
@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'provider_id' }) providerId!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'text', name: 'research_field' }) researchField!: string;
  @Column({ type: 'text' }) kind!: DatasetKind;
  @Column({ type: 'jsonb' }) distribution!: DatasetV1['distribution'];
  @Column({ type: 'text', nullable: true }) license!: string | null;
  @Column({ type: 'jsonb', nullable: true }) schema!: NonNullable<DatasetV1['schema']> | null;
  @Column({ type: 'text' }) status!: 'published' | 'withdrawn';
  @Column({ type: 'timestamptz', name: 'published_at', insert: false, update: false }) publishedAt!: Date;
  @Column({ type: 'timestamptz', name: 'withdrawn_at', nullable: true }) withdrawnAt!: Date | null;
}
