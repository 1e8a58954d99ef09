/** A participant's public key, as stored. */
import { Column, Entity, PrimaryColumn } from 'typeorm';

/** Row of `participant_keys`: kid is the RFC 7638 thumbprint; revoked keys stay on record. */
@Entity({ name: 'participant_keys' })
export class ParticipantKeyEntity {
  @PrimaryColumn({ type: 'text' }) kid!: string;
  @Column({ type: 'uuid', name: 'participant_id' }) participantId!: string;
  @Column({ type: 'jsonb', name: 'public_jwk' }) publicJwk!: { kty: 'OKP'; crv: 'Ed25519'; x: string };
  @Column({ type: 'timestamptz', name: 'created_at', insert: false, update: false }) createdAt!: Date;
  @Column({ type: 'timestamptz', name: 'revoked_at', nullable: true }) revokedAt!: Date | null;
}
