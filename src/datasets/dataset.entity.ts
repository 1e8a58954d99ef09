/** A published dataset, as stored. */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';

/** raw: data a provider holds; insight: results derived by a consumer and shared back. */
export type DatasetKind = 'raw' | 'insight';

/** Where and what the bytes are: fetched by the job, checked against sha256 and byteSize. */
export interface Distribution {
  url: string;
  sha256: string;
  byteSize: number;
  mediaType: string;
}

/** Row of `datasets`. */
@Entity({ name: 'datasets' })
export class DatasetEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'uuid', name: 'provider_id' }) providerId!: string;
  @Column({ type: 'text' }) title!: string;
  @Column({ type: 'text' }) description!: string;
  @Column({ type: 'text', name: 'research_field' }) researchField!: string;
  @Column({ type: 'text' }) kind!: DatasetKind;
  @Column({ type: 'jsonb' }) distribution!: Distribution;
  @Column({ type: 'text', nullable: true }) license!: string | null;
  @Column({ type: 'jsonb', nullable: true }) schema!: object | null;
  @Column({ type: 'text' }) status!: 'published' | 'withdrawn';
  @Column({ type: 'timestamptz', name: 'published_at', insert: false, update: false }) publishedAt!: Date;
  @Column({ type: 'timestamptz', name: 'withdrawn_at', nullable: true }) withdrawnAt!: Date | null;
}
