/**
 * The SQL of the participant tables beyond plain entity reads: the
 * authentication hot path (key lookup, token use with the key's state in one
 * statement), token clean-up, key rotation, and the key facts other
 * capabilities need (reached through ParticipantsService, never directly).
 */
import type { DataSource, EntityManager } from 'typeorm';
import type { Queryable } from '../db/transaction.js';
import type { PublicJwk } from '../crypto/ed25519.js';
import type { KeyState, ResolvedKey } from '../principal.js';
import { preparedQuery } from '../db/prepared.js';

/** The immutable facts of a key id, or null when no participant registered it. */
export async function findKey(q: Queryable, kid: string): Promise<ResolvedKey | null> {
  const rows = (await q.query('SELECT kid, public_jwk, participant_id FROM participant_keys WHERE kid = $1', [kid])) as Array<{ kid: string; public_jwk: PublicJwk; participant_id: string }>;
  const r = rows[0];
  return r ? { kid: r.kid, publicJwk: r.public_jwk, participantId: r.participant_id } : null;
}

/** Record (issuer, jti) until expiresAt and read the key's revocation and its owner's status and roles; null for an unknown kid. */
export async function recordUseAndReadState(ds: DataSource, kid: string, issuer: string, jti: string, expiresAt: Date): Promise<KeyState | null> {
  const rows = await preparedQuery<{ revoked_at: Date | null; status: KeyState['status']; roles: string[]; fresh: boolean }>(
    ds,
    'tds_token_use',
    TOKEN_USE_STATEMENT,
    [kid, issuer, jti, expiresAt],
  );
  const r = rows[0];
  return r ? { fresh: r.fresh, revokedAt: r.revoked_at, status: r.status, roles: r.roles } : null;
}

/** The key's revocation and its owner's status and roles, recording nothing (read-only requests); null for an unknown kid. */
export async function readKeyState(ds: DataSource, kid: string): Promise<Omit<KeyState, 'fresh'> | null> {
  const rows = await preparedQuery<{ revoked_at: Date | null; status: KeyState['status']; roles: string[] }>(
    ds,
    'tds_key_state',
    'SELECT k.revoked_at, p.status, p.roles FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = $1',
    [kid],
  );
  const r = rows[0];
  return r ? { revokedAt: r.revoked_at, status: r.status, roles: r.roles } : null;
}

/** The statement of recordUseAndReadState, exported for the benchmark's replay of the request path. */
export const TOKEN_USE_STATEMENT = `WITH used AS (INSERT INTO used_tokens (issuer, jti, expires_at) VALUES ($2, $3, $4) ON CONFLICT DO NOTHING RETURNING 1)
     SELECT k.revoked_at, p.status, p.roles, EXISTS (SELECT 1 FROM used) AS fresh
       FROM participant_keys k JOIN participants p ON p.id = k.participant_id WHERE k.kid = $1`;

/** Record (issuer, jti) until expiresAt; false when it was recorded before. */
export async function insertTokenUse(q: Queryable, issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
  const rows = (await q.query('INSERT INTO used_tokens (issuer, jti, expires_at) VALUES ($1, $2, $3) ON CONFLICT DO NOTHING RETURNING 1', [issuer, jti, expiresAt])) as unknown[];
  return rows.length === 1;
}

/** Delete the token ids whose tokens have expired; returns how many. */
export async function deleteExpiredTokens(q: Queryable): Promise<number> {
  const r = (await q.query('DELETE FROM used_tokens WHERE expires_at < now()')) as [unknown, number];
  return r[1];
}

/** Lock the participant's row FOR UPDATE in tx (serialises its key rotations). */
export async function lockParticipantForUpdate(tx: EntityManager, id: string): Promise<void> {
  await tx.query('SELECT id FROM participants WHERE id = $1 FOR UPDATE', [id]);
}

/** Revoke the participant's key kid if it is still current; false when it no longer was. */
export async function revokeCurrentKey(tx: EntityManager, participantId: string, kid: string): Promise<boolean> {
  const r = (await tx.query('UPDATE participant_keys SET revoked_at = clock_timestamp() WHERE participant_id = $1 AND revoked_at IS NULL AND kid = $2', [participantId, kid])) as [unknown, number];
  return r[1] === 1;
}

/** A participant's status and current (unrevoked) key id, or null when it does not exist. */
export async function contractPartyOf(q: Queryable, participantId: string): Promise<{ status: string; kid: string | null; name: string } | null> {
  const rows = (await q.query(
    'SELECT p.status, k.kid, p.name FROM participants p LEFT JOIN participant_keys k ON k.participant_id = p.id AND k.revoked_at IS NULL WHERE p.id = $1',
    [participantId],
  )) as Array<{ status: string; kid: string | null; name: string }>;
  return rows[0] ?? null;
}

/** The public key kid of this participant (revoked or not), or null when kid is not one of its keys. */
export async function publicKeyOfParticipant(q: Queryable, participantId: string, kid: string): Promise<PublicJwk | null> {
  const rows = (await q.query('SELECT public_jwk FROM participant_keys WHERE kid = $1 AND participant_id = $2', [kid, participantId])) as Array<{ public_jwk: PublicJwk }>;
  return rows[0]?.public_jwk ?? null;
}

/** The key kid of this participant with its revocation time, locked FOR SHARE (a rotation waits until the caller's transaction ends). */
export async function signingKeyOfParticipant(q: Queryable, participantId: string, kid: string): Promise<{ publicJwk: PublicJwk; revokedAt: Date | null } | null> {
  const rows = (await q.query('SELECT public_jwk, revoked_at FROM participant_keys WHERE kid = $1 AND participant_id = $2 FOR SHARE', [kid, participantId])) as Array<{ public_jwk: PublicJwk; revoked_at: Date | null }>;
  return rows[0] ? { publicJwk: rows[0].public_jwk, revokedAt: rows[0].revoked_at } : null;
}

/**
 * Record on every contract of the participant whether both its parties are
 * active now (in tx, after the participant's status changed). A release
 * re-checks this on its locked contract row (migration
 * ContractPartiesActive): a suspension waits for the releases in flight on
 * those contracts and stops every one that locks a row after it.
 */
export async function markContractsOfParty(tx: EntityManager, participantId: string): Promise<void> {
  await tx.query(
    `UPDATE contracts c SET parties_active = NOT EXISTS (SELECT 1 FROM participants p WHERE p.id IN (c.consumer_id, c.provider_id) AND p.status <> 'active'),
            updated_at = clock_timestamp()
      WHERE c.consumer_id = $1 OR c.provider_id = $1`,
    [participantId],
  );
}
