/**
 * Which requests the lane's body reader reads itself and which it hands to
 * the general reader (body-parser in the app), over a real HTTP server. That
 * both give the same answers is test/api/fixed-lane.api.test.ts.
 */
import http from 'node:http';
import type { AddressInfo } from 'node:net';
import type { NextFunction, Request, RequestHandler, Response } from 'express';
import { plainJsonBody } from './plain-json-body.js';

const LIMIT = 64;

interface Seen { general: boolean; body: unknown; error: { type?: string; status?: number } | null }

/** Send one request through plainJsonBody; report whether the general reader ran, and what the reader left. */
async function through(headers: Record<string, string>, chunks: Buffer[], opts: { abortAfterFirst?: boolean } = {}): Promise<Seen> {
  let seen: Seen | undefined;
  let done!: () => void;
  const finished = new Promise<void>((r) => { done = r; });
  const general: RequestHandler = (req, res) => {
    seen = { general: true, body: undefined, error: null };
    req.resume();
    res.end();
    done();
  };
  const reader = plainJsonBody(LIMIT, general);
  const server = http.createServer((req, res) => {
    reader(req as Request, res as unknown as Response, ((err?: unknown) => {
      seen = { general: false, body: (req as Request).body, error: (err as Seen['error']) ?? null };
      res.end();
      done();
    }) as NextFunction);
  });
  await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
  const { port } = server.address() as AddressInfo;
  await new Promise<void>((resolve) => {
    const req = http.request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers });
    req.on('error', () => resolve());
    req.on('response', (res) => { res.resume(); res.on('end', resolve); });
    if (opts.abortAfterFirst) {
      req.write(chunks[0]!);
      setTimeout(() => { req.destroy(); resolve(); }, 50);
      return;
    }
    for (const c of chunks.slice(0, -1)) req.write(c);
    req.end(chunks[chunks.length - 1]);
  });
  await finished;
  await new Promise((r) => server.close(r));
  return seen!;
}

const plain = (text: string, type = 'application/json'): [Record<string, string>, Buffer[]] => [{ 'content-type': type, 'content-length': String(Buffer.byteLength(text)) }, [Buffer.from(text)]];

describe('plainJsonBody', () => {
  it('reads a plain JSON body itself, in one piece or several', async () => {
    expect(await through(...plain('{"a":1}'))).toEqual({ general: false, body: { a: 1 }, error: null });
    const text = Buffer.from('{"a":[1,2,3]}');
    expect(await through({ 'content-type': 'application/json; charset=utf-8', 'content-length': String(text.length) }, [text.subarray(0, 3), text.subarray(3)]))
      .toEqual({ general: false, body: { a: [1, 2, 3] }, error: null });
  });

  it('drops one leading byte order mark, as iconv-lite does for body-parser', async () => {
    const text = Buffer.concat([Buffer.from([0xef, 0xbb, 0xbf]), Buffer.from('{"a":1}')]);
    expect(await through({ 'content-type': 'application/json', 'content-length': String(text.length) }, [text])).toEqual({ general: false, body: { a: 1 }, error: null });
  });

  it('refuses what strict JSON refuses with body-parser\'s error type, leaving no body', async () => {
    for (const text of ['"a"', 'null', '  ', '{"a":', '{"a":1}x']) {
      const seen = await through(...plain(text));
      expect([seen.general, seen.body, seen.error?.type, seen.error?.status]).toEqual([false, undefined, 'entity.parse.failed', 400]);
    }
  });

  it('hands every other request to the general reader', async () => {
    const text = '{"a":1}';
    const len = String(text.length);
    const others: Array<Record<string, string>> = [
      { 'content-type': 'application/json; charset=latin1', 'content-length': len },
      { 'content-type': 'application/vnd.x+json', 'content-length': len },
      { 'content-type': 'text/plain', 'content-length': len },
      { 'content-type': 'application/json', 'content-length': len, 'content-encoding': 'identity' },
      { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
      { 'content-type': 'application/json', 'content-length': '0' },
    ];
    for (const headers of others) expect((await through(headers, [Buffer.from(headers['content-length'] === '0' ? '' : text)])).general).toBe(true);
    // Over the limit: body-parser answers 413 from Content-Length alone.
    expect((await through(...plain(`{"a":"${'x'.repeat(LIMIT)}"}`))).general).toBe(true);
  });

  it('reports a request aborted mid-body as body-parser does', async () => {
    const seen = await through({ 'content-type': 'application/json', 'content-length': '20' }, [Buffer.from('{"a":')], { abortAfterFirst: true });
    expect([seen.general, seen.body, seen.error?.type, seen.error?.status]).toEqual([false, undefined, 'request.aborted', 400]);
  });
});
