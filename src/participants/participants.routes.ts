/** HTTP routes of the participant registry: validate, call one service method, set the status. */
import type { Router } from 'express';
import type { SchemaRegistry } from '../http/validation.js';
import { bearerToken, principalOf, tokenKid, verifyRegistrationToken, type AuthDeps } from '../http/auth.js';
import { requireRole } from '../principal.js';
import { pathId } from '../http/params.js';
import { invalidField, unauthenticated } from '../errors.js';
import { publicKeyFromJwk, thumbprintOf, type PublicJwk } from '../crypto/ed25519.js';
import type { ParticipantsService, RegistrationInput } from './participants.service.js';
import { badDisplayText } from '../input-text.js';

// The schema checks the JWK's shape; only decoding tells whether x is an acceptable key: a canonical
// encoding of a prime-order point (small-order and non-canonical keys let signatures exist without a secret).
function checkPointOnCurve(jwk: PublicJwk): void {
  try {
    publicKeyFromJwk(jwk);
  } catch {
    throw invalidField('/publicKeyJwk/x', 'not a canonical prime-order point on Ed25519 (small-order and non-canonical keys are refused)', 'publicKeyJwk is not an acceptable Ed25519 public key');
  }
}

// Names are shown to people in the directory and in contracts: no bidi overrides or invisible characters
// that would make one participant's name read as another's.
function checkDisplayNames(body: RegistrationInput): void {
  for (const field of ['name', 'organization'] as const) {
    const v = body[field];
    const why = v === undefined ? null : badDisplayText(v);
    if (why) throw invalidField(`/${field}`, why, `${field} ${why}`);
  }
}

/** Registration: the only /v1 call whose token is checked against the key in its own body. */
export function registrationRoutes(r: Router, svc: ParticipantsService, schemas: SchemaRegistry, auth: AuthDeps): void {
  r.post('/participants', async (req, res) => {
    const token = bearerToken(req);
    const kid = tokenKid(token);
    const body = schemas.check<RegistrationInput>('participant-registration.v1', req.body);
    checkPointOnCurve(body.publicKeyJwk);
    checkDisplayNames(body);
    const thumbprint = await thumbprintOf(body.publicKeyJwk);
    if (kid !== thumbprint) throw unauthenticated('TOKEN_SIGNATURE_INVALID', 'the token kid must be the thumbprint of the key being registered');
    await verifyRegistrationToken(token, body.publicKeyJwk, req, thumbprint, auth);
    const p = await svc.register(body);
    res.status(201).location(`/v1/participants/${p.id}`).json(p);
  });
}

/** Authenticated participant routes. */
export function participantRoutes(r: Router, svc: ParticipantsService, schemas: SchemaRegistry): void {
  r.get('/participants', async (req, res) => {
    const q = schemas.checkQuery<{ role?: string; status?: string; limit: number; cursor?: string }>('participant-query.v1', req.query);
    res.json(await svc.list(principalOf(res), q));
  });
  r.get('/participants/:id', async (req, res) => {
    res.json(await svc.get(principalOf(res), pathId(req, 'participant')));
  });
  r.post('/participants/:id/approve', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'operator');
    schemas.check('empty-body.v1', req.body ?? {});
    res.json(await svc.approve(p, pathId(req, 'participant')));
  });
  r.post('/participants/:id/suspend', async (req, res) => {
    const p = principalOf(res);
    requireRole(p, 'operator');
    schemas.check('empty-body.v1', req.body ?? {});
    res.json(await svc.suspend(p, pathId(req, 'participant')));
  });
  r.post('/participants/:id/keys', async (req, res) => {
    const body = schemas.check<{ publicKeyJwk: RegistrationInput['publicKeyJwk'] }>('key-rotation.v1', req.body);
    checkPointOnCurve(body.publicKeyJwk);
    // No pathId: only the caller's own id passes rotateKey's owner check, so a malformed one is FORBIDDEN like any other.
    res.json(await svc.rotateKey(principalOf(res), req.params.id, body.publicKeyJwk));
  });
}
