/**
 * The participant registry: self-registration with proof of possession,
 * operator approval and suspension, key rotation, directory reads, and the
 * key lookup that request authentication runs on.
 */
import type { DataSource, EntityManager } from 'typeorm';
import { forbidden, invalidTransition, keyAlreadyRegistered, notFound, rateLimited, unauthenticated, unknownKey } from '../errors.js';
import { inTransaction } from '../db/transaction.js';
import { appendEvent } from '../ledger/append-event.js';
import { publicHalf, thumbprintOf, type PublicJwk } from '../crypto/ed25519.js';
import type { KeyState, Principal, ResolvedKey } from '../principal.js';
import { ParticipantEntity, type Role } from './participant.entity.js';
import type { ParticipantView } from './participant-view.js';
import { ParticipantKeyEntity } from './participant-key.entity.js';
import { decodeCursor, encodeCursor } from '../db/keyset-cursor.js';
import { deleteExpiredTokens, findKey, insertTokenUse, lockParticipantForUpdate, readKeyState, publicKeyOfParticipant, recordUseAndReadState, signingKeyOfParticipant, revokeCurrentKey, contractPartyOf, markContractsOfParty } from './participants.store.js';
import type { ParticipantRegistrationV1 } from '../generated/contracts.js';

/** Body of a registration (already schema-checked): the type generated from participant-registration.v1. */
export type RegistrationInput = ParticipantRegistrationV1;

/**
 * A concurrent request registered the same key between our check and our insert: the key's primary key
 * refused the second insert (23505) and the whole transaction rolled back; that is a 409, not a 500.
 */
async function keyTaken<T>(p: Promise<T>): Promise<T> {
  try {
    return await p;
  } catch (e) {
    const err = e as { code?: string; driverError?: { code?: string } };
    if ((err.driverError?.code ?? err.code) === '23505') throw keyAlreadyRegistered();
    throw e;
  }
}

/** Participant registry operations; each state change runs in one transaction with its ledger event. */
export class ParticipantsService {
  constructor(
    private readonly ds: DataSource,
    private readonly maxPending = 1000,
  ) {}

  /** Register a pending participant whose key proved possession (kid = thumbprint of publicKeyJwk). */
  async register(input: RegistrationInput): Promise<ParticipantView> {
    const jwk = publicHalf(input.publicKeyJwk);
    const kid = await thumbprintOf(jwk);
    return keyTaken(inTransaction(this.ds, async (tx) => {
      const taken = await tx.getRepository(ParticipantKeyEntity).existsBy({ kid });
      if (taken) throw keyAlreadyRegistered();
      // The cap on pending registrations, serialised so concurrent registrations cannot overshoot it.
      await tx.query('SELECT pg_advisory_xact_lock(hashtextextended($1, 0))', ['tds.participants/pending-cap']);
      const pending = (await tx.query(`SELECT count(*)::int AS n FROM participants WHERE status = 'pending'`)) as Array<{ n: number }>;
      if (pending[0]!.n >= this.maxPending) throw rateLimited(`${pending[0]!.n} registrations are waiting for approval; retry later`);
      const p = await tx.getRepository(ParticipantEntity).save(
        tx.getRepository(ParticipantEntity).create({
          name: input.name,
          roles: input.roles,
          status: 'pending',
          organization: input.organization ?? null,
          contact: input.contact ?? null,
        }),
      );
      await this.insertKey(tx, p.id, kid, jwk);
      await appendEvent(tx, {
        kind: 'participant.registered',
        actor: p.id,
        subjects: { participant: p.id },
        data: { name: p.name, roles: p.roles, kid, publicKeyJwk: jwk },
      });
      return this.view(tx, p.id, true);
    }));
  }

  /** Create an already active participant (the operator at first start). */
  async createActive(name: string, roles: Role[], jwk: PublicJwk, id?: string): Promise<{ id: string; kid: string }> {
    const kid = await thumbprintOf(jwk);
    return inTransaction(this.ds, async (tx) => {
      const p = await tx.getRepository(ParticipantEntity).save(
        tx.getRepository(ParticipantEntity).create({ ...(id ? { id } : {}), name, roles, status: 'active', organization: null, contact: null }),
      );
      await this.insertKey(tx, p.id, kid, publicHalf(jwk));
      await appendEvent(tx, { kind: 'participant.registered', actor: 'system', subjects: { participant: p.id }, data: { name, roles, kid, publicKeyJwk: publicHalf(jwk) } });
      // The same data shape as an operator's approval (setStatus): registered, then approved, in one step.
      await appendEvent(tx, { kind: 'participant.approved', actor: 'system', subjects: { participant: p.id }, data: { from: 'pending', to: 'active' } });
      return { id: p.id, kid };
    });
  }

  /** Operator: approve a pending (or reinstate a suspended) participant. */
  async approve(actor: Principal, id: string): Promise<ParticipantView> {
    if (actor.participantId === id) throw forbidden('a participant cannot approve itself');
    return this.setStatus(actor, id, 'active', ['pending', 'suspended'], 'participant.approved');
  }

  /** Operator: suspend an active or pending participant; it can do nothing until approved again. */
  async suspend(actor: Principal, id: string): Promise<ParticipantView> {
    if (actor.participantId === id) throw forbidden('the operator cannot suspend itself');
    return this.setStatus(actor, id, 'suspended', ['pending', 'active'], 'participant.suspended');
  }

  private async setStatus(
    actor: Principal,
    id: string,
    to: 'active' | 'suspended',
    from: string[],
    kind: 'participant.approved' | 'participant.suspended',
  ): Promise<ParticipantView> {
    return inTransaction(this.ds, async (tx) => {
      const repo = tx.getRepository(ParticipantEntity);
      const p = await repo.findOne({ where: { id }, lock: { mode: 'pessimistic_write' } });
      if (!p) throw notFound('participant', id);
      if (p.status === to) return this.view(tx, id, true); // idempotent: already there
      if (!from.includes(p.status)) throw invalidTransition('participant', p.status, kind.split('.')[1]!);
      await repo.update({ id }, { status: to, updatedAt: new Date() });
      await markContractsOfParty(tx, id);
      await appendEvent(tx, { kind, actor: actor.participantId, subjects: { participant: id }, data: { from: p.status, to } });
      return this.view(tx, id, true);
    });
  }

  /** Self: replace the current key; the old one stays on record but no longer authenticates. */
  async rotateKey(actor: Principal, id: string, jwk: PublicJwk): Promise<ParticipantView> {
    if (actor.participantId !== id) throw forbidden('a participant rotates only its own key');
    const pub = publicHalf(jwk);
    const kid = await thumbprintOf(pub);
    return keyTaken(inTransaction(this.ds, async (tx) => {
      const keys = tx.getRepository(ParticipantKeyEntity);
      if (await keys.existsBy({ kid })) throw keyAlreadyRegistered();
      // Lock the participant row so two concurrent rotations cannot both succeed.
      await lockParticipantForUpdate(tx, id);
      if (!(await revokeCurrentKey(tx, id, actor.kid))) throw unauthenticated('KEY_ROTATED', 'the signing key is no longer current');
      await this.insertKey(tx, id, kid, pub);
      await appendEvent(tx, { kind: 'participant.key_rotated', actor: id, subjects: { participant: id }, data: { oldKid: actor.kid, kid, publicKeyJwk: pub } });
      return this.view(tx, id, true);
    }));
  }

  /** Directory entry; contact details only for the participant itself and the operator. */
  async get(actor: Principal, id: string): Promise<ParticipantView> {
    const privileged = actor.participantId === id || actor.roles.includes('operator');
    const v = await this.view(this.ds.manager, id, privileged);
    // Pending registrations are not in the directory: only the operator (and the participant itself) sees them.
    if (v.status === 'pending' && !privileged) throw notFound('participant', id);
    return v;
  }

  /** Directory listing, ordered by registration, keyset-paginated. */
  async list(actor: Principal, q: { role?: string; status?: string; limit: number; cursor?: string }): Promise<{ items: ParticipantView[]; nextCursor: string | null }> {
    const qb = this.ds.getRepository(ParticipantEntity).createQueryBuilder('p').orderBy('p.created_at', 'ASC').addOrderBy('p.id', 'ASC').limit(q.limit + 1);
    if (q.role) qb.andWhere(':role = ANY(p.roles)', { role: q.role });
    if (q.status) qb.andWhere('p.status = :status', { status: q.status });
    // Pending registrations are visible to the operator only (anyone can register; nobody should see the flood).
    if (!actor.roles.includes('operator')) qb.andWhere(`(p.status <> 'pending' OR p.id = :self)`, { self: actor.participantId });
    if (q.cursor) {
      const [t, id] = decodeCursor(q.cursor);
      qb.andWhere('(p.created_at, p.id) > (:t, :id)', { t, id });
    }
    const rows = await qb.getMany();
    const page = rows.slice(0, q.limit);
    const items = await Promise.all(page.map((p) => this.view(this.ds.manager, p.id, actor.participantId === p.id || actor.roles.includes('operator'))));
    const last = page[page.length - 1];
    return { items, nextCursor: rows.length > q.limit && last ? encodeCursor(last.createdAt, last.id) : null };
  }

  /** A participant's status, current key id and display name in tx (a contract names each party's current key and name); null when unknown. */
  async contractParty(tx: EntityManager, participantId: string): Promise<{ status: string; kid: string | null; name: string } | null> {
    return contractPartyOf(tx, participantId);
  }

  /** The public key kid of this participant in tx (to verify what it signed); null when kid is not one of its keys. */
  async publicKeyOf(tx: EntityManager, participantId: string, kid: string): Promise<PublicJwk | null> {
    return publicKeyOfParticipant(tx, participantId, kid);
  }

  /** A participant's key kid with its revocation time, locked in tx against a concurrent rotation (contract signing). */
  async signingKeyOf(tx: EntityManager, participantId: string, kid: string): Promise<{ publicJwk: PublicJwk; revokedAt: Date | null } | null> {
    return signingKeyOfParticipant(tx, participantId, kid);
  }

  /** Key lookup for authentication: the key and its owner, both immutable (revocation and status are read per request). */
  async resolveKey(kid: string): Promise<ResolvedKey | null> {
    return findKey(this.ds, kid);
  }

  /**
   * Record a token use and read the key's revocation and its owner's status
   * in one statement: the per-request cost of authentication is one round trip.
   */
  async recordUseAndReadState(kid: string, issuer: string, jti: string, expiresAt: Date): Promise<KeyState> {
    const state = await recordUseAndReadState(this.ds, kid, issuer, jti, expiresAt);
    if (!state) throw unknownKey();
    return state;
  }

  /** The key's revocation and its owner's status and roles, recording nothing (read-only requests). */
  async readKeyState(kid: string): Promise<Omit<KeyState, 'fresh'>> {
    const state = await readKeyState(this.ds, kid);
    if (!state) throw unknownKey();
    return state;
  }

  /** Record a token id until it expires; false when (issuer, jti) was seen before. */
  async recordTokenUse(issuer: string, jti: string, expiresAt: Date): Promise<boolean> {
    return insertTokenUse(this.ds, issuer, jti, expiresAt);
  }

  /** Forget token ids whose tokens have expired (they can no longer be replayed). */
  async purgeExpiredTokens(): Promise<number> {
    return deleteExpiredTokens(this.ds);
  }


  private async insertKey(tx: EntityManager, participantId: string, kid: string, jwk: PublicJwk): Promise<void> {
    await tx.getRepository(ParticipantKeyEntity).insert({ kid, participantId, publicJwk: { kty: 'OKP', crv: 'Ed25519', x: jwk.x }, revokedAt: null });
  }

  private async view(tx: EntityManager, id: string, withPrivate: boolean): Promise<ParticipantView> {
    const p = await tx.getRepository(ParticipantEntity).findOneBy({ id });
    if (!p) throw notFound('participant', id);
    const keys = await tx.getRepository(ParticipantKeyEntity).find({ where: { participantId: id }, order: { createdAt: 'ASC' } });
    const current = keys.find((k) => !k.revokedAt);
    return {
      id: p.id,
      name: p.name,
      roles: p.roles,
      status: p.status,
      organization: p.organization,
      ...(withPrivate ? { contact: p.contact } : {}),
      kid: current?.kid ?? null,
      keys: keys.map((k) => ({ kid: k.kid, publicKeyJwk: k.publicJwk, createdAt: k.createdAt.toISOString(), revokedAt: k.revokedAt?.toISOString() ?? null })),
      createdAt: p.createdAt.toISOString(),
    };
  }
}
