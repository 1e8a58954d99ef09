import { isDatabaseUnavailable, toDomainError } from './problem.js';

describe('database outage classification', () => {
  it.each([
    '08000', '08001', '08003', '08004', '08006', '08P01', '53000', '53100', '53200', '53300', '53400',
    '55000', '57P01', '57P02', '57P03', '57P04', '57P05', 'ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', 'EHOSTUNREACH', 'ENOTFOUND',
  ])('%s is DATABASE_UNAVAILABLE, directly and wrapped by TypeORM', (code) => {
    expect(isDatabaseUnavailable({ code })).toBe(true);
    expect(toDomainError({ driverError: { code }, message: 'query failed' })?.code).toBe('DATABASE_UNAVAILABLE');
  });

  it.each(['23505', '42P01', '40001', '57014', 'XX000', ''])('%s is not an outage', (code) => {
    expect(isDatabaseUnavailable({ code, message: 'something else' })).toBe(false);
  });

  it('recognises the driver\'s connection messages', () => {
    for (const message of ['Connection terminated unexpectedly', 'timeout exceeded when trying to connect', 'database "x" is not currently accepting connections']) {
      expect(isDatabaseUnavailable(new Error(message))).toBe(true);
    }
  });

  it('maps data exceptions (class 22) that reached the database to VALIDATION_FAILED', () => {
    for (const code of ['22P02', '22003', '22021', '22007', '22008']) expect(toDomainError({ driverError: { code } })?.code).toBe('VALIDATION_FAILED');
  });
});
