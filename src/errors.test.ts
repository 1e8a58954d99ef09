import { STATUS_BY_CODE } from './http/problem.js';
import { conflict, invalidField, refused, unauthenticated, type AuthFailureCode, type ConflictCode, type RefusalCode } from './errors.js';

describe('error factories', () => {
  it('invalidField points at the value, as schema errors do', () => {
    const e = invalidField('/validUntil', 'must be after validFrom');
    expect({ code: e.code, detail: e.detail, extensions: e.extensions }).toEqual({
      code: 'VALIDATION_FAILED', detail: 'validUntil must be after validFrom', extensions: { errors: [{ pointer: '/validUntil', message: 'must be after validFrom' }] },
    });
    expect(invalidField('/distribution/url', 'is not https').detail).toBe('distribution.url is not https');
    expect(invalidField('/cursor', 'bad', 'cursor is bad').detail).toBe('cursor is bad');
  });

  it('each family factory only takes codes of its status', () => {
    const auth: AuthFailureCode[] = ['AUTH_REQUIRED', 'TOKEN_MALFORMED', 'TOKEN_REPLAYED', 'UNKNOWN_KEY', 'KEY_ROTATED', 'PARTICIPANT_NOT_ACTIVE'];
    const refusals: RefusalCode[] = ['NOT_OWNER', 'CONTRACT_EXHAUSTED', 'PURPOSE_NOT_ALLOWED', 'RECIPROCITY_UNMET', 'DATASET_WITHDRAWN', 'TERMS_EXCEED_OFFER'];
    const conflicts: ConflictCode[] = ['KEY_ALREADY_REGISTERED', 'INVALID_STATE_TRANSITION', 'SIGNATURE_OUT_OF_ORDER', 'ALREADY_SIGNED'];
    for (const c of auth) expect(STATUS_BY_CODE[unauthenticated(c, 'x').code]).toBe(401);
    for (const c of refusals) expect(STATUS_BY_CODE[refused(c, 'x').code]).toBe(403);
    for (const c of conflicts) expect(STATUS_BY_CODE[conflict(c, 'x').code]).toBe(409);
    expect(refused('RECIPROCITY_UNMET', 'x', { rules: [] }).extensions).toEqual({ rules: [] });
  });
});
