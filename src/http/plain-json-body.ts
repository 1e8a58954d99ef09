/**
 * The JSON body reader of the fixed lane (fixed-lane.ts): the common request
 * (Content-Type `application/json`, optionally `; charset=utf-8`; no
 * Content-Encoding or Transfer-Encoding; a Content-Length from 1 to the
 * limit) is read and parsed here, and every other request is handed to
 * body-parser, the reader the routers use. For the requests it reads, the
 * outcome is body-parser's: the body decoded as UTF-8 with a leading BOM
 * dropped (iconv-lite's decoder does that), strict JSON (an object or an
 * array), a parse failure or an aborted request reported with body-parser's
 * error type and status (problem.ts maps those), `req.body` set only on
 * success. What it saves is body-parser's general machinery (type-is and
 * content-type parsing, raw-body's stream handling, iconv-lite) on every job
 * authorization; test/api/fixed-lane.api.test.ts sends the same bodies both
 * ways and compares the answers.
 */
import type { RequestHandler } from 'express';

const PLAIN_TYPE = /^application\/json(?:[ \t]*;[ \t]*charset[ \t]*=[ \t]*(?:utf-8|"utf-8"))?[ \t]*$/i;
const DIGITS = /^[0-9]{1,9}$/;

/** An error shaped as body-parser's (http-errors): problem.ts reads type, status and expose. */
function bodyError(message: string, type: string): Error {
  return Object.assign(new Error(message), { status: 400, statusCode: 400, expose: true, type });
}

/** Strict JSON as body-parser's json parser: the first non-whitespace character must open an object or an array. */
function parseStrict(text: string): unknown {
  let i = 0;
  while (i < text.length && (text[i] === ' ' || text[i] === '\t' || text[i] === '\n' || text[i] === '\r')) i++;
  if (text[i] !== '{' && text[i] !== '[') throw bodyError('the request body is not a JSON object or array', 'entity.parse.failed');
  try {
    return JSON.parse(text);
  } catch {
    throw bodyError('the request body is not valid JSON', 'entity.parse.failed');
  }
}

/** Middleware: read a plain JSON body of at most `limit` bytes here, or pass the request to `general` (body-parser, same limit). */
export function plainJsonBody(limit: number, general: RequestHandler): RequestHandler {
  return (req, res, next) => {
    const h = req.headers;
    const length = h['content-length'];
    const expected = length !== undefined && DIGITS.test(length) ? Number(length) : 0;
    if (
      expected === 0 || expected > limit || h['content-encoding'] !== undefined || h['transfer-encoding'] !== undefined
      || h['content-type'] === undefined || !PLAIN_TYPE.test(h['content-type']) || req.body !== undefined || !req.readable || req.readableDidRead
    ) {
      general(req, res, next);
      return;
    }
    const chunks: Buffer[] = [];
    let received = 0;
    let settled = false;
    const finish = (err?: Error): void => {
      if (settled) return;
      settled = true;
      req.off('data', onData);
      req.off('end', onEnd);
      req.off('aborted', onAborted);
      req.off('error', onError);
      if (err) {
        next(err);
        return;
      }
      let text = (chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks, received)).toString('utf8');
      if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
      try {
        req.body = parseStrict(text);
      } catch (e) {
        next(e);
        return;
      }
      next();
    };
    const onData = (chunk: Buffer): void => {
      received += chunk.length;
      chunks.push(chunk);
    };
    // Node's parser delivers exactly Content-Length bytes, or ends early with 'aborted' when the client goes.
    const onEnd = (): void => finish(received === expected ? undefined : bodyError('request size did not match content length', 'request.size.invalid'));
    const onAborted = (): void => finish(bodyError('request aborted', 'request.aborted'));
    const onError = (e: Error): void => finish(Object.assign(e, { status: 400, statusCode: 400, expose: true }));
    req.on('data', onData);
    req.on('end', onEnd);
    req.on('aborted', onAborted);
    req.on('error', onError);
  };
}
