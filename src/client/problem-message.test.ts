import { networkErrorMessage } from './problem-message.js';

// fetch hides the node error code in `cause`, as these synthetic errors do.
const failed = (code: string) => Object.assign(new TypeError('fetch failed'), { cause: Object.assign(new Error(code), { code }) });

describe('networkErrorMessage', () => {
  const retry = 'retry with the same --idempotency-key k1';
  const check = 'check its effect before you retry';

  it('hints a retry with the same Idempotency-Key on refused, dropped and timed-out requests', () => {
    for (const code of ['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'UND_ERR_CONNECT_TIMEOUT', 'UND_ERR_HEADERS_TIMEOUT', 'UND_ERR_SOCKET']) {
      expect({ code, message: networkErrorMessage('https://tds.example', failed(code), { retryHint: retry }) }).toEqual({ code, message: expect.stringContaining(retry) });
    }
  });

  it('warns to check before retrying other changes only when the request may have arrived', () => {
    expect(networkErrorMessage('u', failed('UND_ERR_HEADERS_TIMEOUT'), { maybeReceivedHint: check })).toBe(`cannot reach u: UND_ERR_HEADERS_TIMEOUT (the service did not answer in time; ${check})`);
    expect(networkErrorMessage('u', failed('ECONNREFUSED'), { maybeReceivedHint: check })).not.toContain(check);
  });

  it('points a certificate problem at --ca, and never suggests a retry for it', () => {
    const m = networkErrorMessage('u', failed('DEPTH_ZERO_SELF_SIGNED_CERT'), { caHint: 'pass it with --ca FILE', retryHint: retry });
    expect(m).toBe('cannot reach u: DEPTH_ZERO_SELF_SIGNED_CERT (the server uses a self-signed certificate; pass it with --ca FILE)');
  });
});
