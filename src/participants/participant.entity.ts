/** A registered participant and its keys, as stored. */
import { Column, Entity, PrimaryColumn, PrimaryGeneratedColumn } from 'typeorm';

/** Roles a participant may hold (several at once). */
export type Role = 'operator' | 'provider' | 'consumer' | 'auditor';
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

/** Row of `participant_keys`: kid is the RFC 7638 thumbprint; revoked keys stay on record. */
@Entity({ name: 'participant_keys' })
export class ParticipantKeyEntity {
  @PrimaryColumn({ type: 'text' }) kid!: string;
  @Column({ type: 'uuid', name: 'participant_id' }) participantId!: string;
  @Column({ type: 'jsonb', name: 'public_jwk' }) publicJwk!: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}
