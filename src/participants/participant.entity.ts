/** A registered participant, as stored (its keys have their own rows). */
import { Column, Entity, PrimaryGeneratedColumn } from 'typeorm';
import type { Role } from './participant-view.js';

/** Roles a participant may hold (declared with the participant's view). */
export type { Role };
/** Lifecycle: pending until the operator approves; suspended participants can do nothing. */
export type ParticipantStatus = 'pending' | 'active' | 'suspended';

/** Row of `participants`. */
@Entity({ name: 'participants' })
export class ParticipantEntity {
  @PrimaryGeneratedColumn('uuid') id!: string;
  @Column({ type: 'text' }) name!: string;
  @Column({ type: 'text', array: true }) roles!: Role[];
  @Column({ type: 'text' }) status!: ParticipantStatus;
  @Column({ type: 'text', nullable: true }) organization!: string | null;
  @Column({ type: 'text', nullable: true }) contact!: string | null;
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'updated_at', insert: false }) updatedAt!: Date;
}
