/**
 * A participant as the API shows it (registration, GET /v1/participants and
 * /v1/participants/:id, approve, suspend, key rotation): one declaration for
 * the service, which builds it (participants.service.ts), and the CLI, which
 * reads it. Types only.
 */
import type { PublicJwk } from '../crypto/ed25519.js';

/** Roles a participant may hold (several at once). */
export type Role = 'operator' | 'provider' | 'consumer' | 'auditor' | 'reviewer';

/** A participant as the API shows it; contact only to itself and the operator. */
export interface ParticipantView {
  id: string;
  name: string;
  roles: Role[];
  status: string;
  organization: string | null;
  contact?: string | null;
  kid: string | null;
  keys: Array<{ kid: string; publicKeyJwk: PublicJwk; createdAt: string; revokedAt: string | null }>;
  createdAt: string;
}
