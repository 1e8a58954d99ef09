import http from 'node:http';
import net from 'node:net';
import type { AddressInfo } from 'node:net';
import { answerClientErrors } from './client-errors.js';

/** Sends raw bytes to the server and returns everything it answers before closing. */
function rawExchange(port: number, bytes: string): Promise<string> {
  return new Promise((resolve, reject) => {
    const socket = net.connect(port, '127.0.0.1', () => socket.write(bytes));
    let got = '';
    socket.on('data', (d) => (got += d.toString('latin1')));
    socket.on('end', () => resolve(got));
    socket.on('error', reject);
  });
}

function parse(answer: string): { statusLine: string; headers: string; body: unknown } {
  const [head = '', body = ''] = answer.split('\r\n\r\n');
  const [statusLine = '', ...headers] = head.split('\r\n');
  return { statusLine, headers: headers.join('\n').toLowerCase(), body: JSON.parse(body) };
}

describe('answerClientErrors', () => {
  let server: http.Server;
  let port: number;
  beforeAll(async () => {
    server = answerClientErrors(http.createServer((_req, res) => res.end('ok')));
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((r) => server.close(() => r())));

  it('answers headers over the limit with a 431 problem document', async () => {
    const a = parse(await rawExchange(port, `GET /v1/participants HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${'a'.repeat(20_000)}\r\n\r\n`));
    expect(a.statusLine).toBe('HTTP/1.1 431 Request Header Fields Too Large');
    expect(a.headers).toContain('content-type: application/problem+json');
    expect(a.headers).toContain('connection: close');
    expect(a.body).toMatchObject({ status: 431, code: 'HEADERS_TOO_LARGE', title: 'Request Header Fields Too Large', type: expect.any(String), detail: expect.any(String) });
  });

  it('answers a malformed request with a 400 problem document', async () => {
    const a = parse(await rawExchange(port, 'NOT HTTP AT ALL\r\n\r\n'));
    expect(a.statusLine).toBe('HTTP/1.1 400 Bad Request');
    expect(a.body).toMatchObject({ status: 400, code: 'MALFORMED_REQUEST' });
  });

  it('leaves well-formed requests alone', async () => {
    const a = await rawExchange(port, 'GET / HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n');
    expect(a.startsWith('HTTP/1.1 200 OK')).toBe(true);
  });
});
