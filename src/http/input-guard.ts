/**
 * The edge's guard for every request, before any route: the raw path and
 * query must be valid percent-encoded UTF-8 (Node's query parser would
 * otherwise replace invalid sequences with U+FFFD), and the path, every query
 * value and the whole JSON body must be acceptable text (input-text.ts: no
 * NUL, no lone surrogates, bounded depth). A refusal is 400 VALIDATION_FAILED
 * with a pointer (/query/<name>, /path, or the body's own JSON pointer).
 */
import type { RequestHandler } from 'express';
import { validationFailed } from '../errors.js';
import { badText, findBadInput } from '../input-text.js';

function decodes(raw: string): string | null {
  try {
    return decodeURIComponent(raw.replace(/\+/g, ' '));
  } catch {
    return null;
  }
}

/** Middleware: refuse bad text in path, query and body (mount after the JSON body parser). */
export function inputGuard(): RequestHandler {
  return (req, _res, next) => {
    const url = req.originalUrl ?? req.url;
    const q = url.indexOf('?');
    const rawPath = q < 0 ? url : url.slice(0, q);
    const path = decodes(rawPath);
    const pathWhy = path === null ? 'is not valid percent-encoded UTF-8' : badText(path);
    if (pathWhy) throw validationFailed(`the request path ${pathWhy}`, [{ pointer: '/path', message: pathWhy }]);
    if (q >= 0) {
      for (const part of url.slice(q + 1).split('&')) {
        const [rawName = '', ...rest] = part.split('=');
        for (const [what, raw] of [['name', rawName], ['value', rest.join('=')]] as const) {
          const text = decodes(raw);
          const why = text === null ? 'is not valid percent-encoded UTF-8' : badText(text);
          if (why) throw validationFailed(`query parameter ${what} ${why}`, [{ pointer: `/query/${decodes(rawName) ?? '?'}`, message: why }]);
        }
      }
    }
    if (req.body !== undefined) {
      const bad = findBadInput(req.body);
      if (bad) throw validationFailed(`the request body ${bad.pointer} ${bad.message}`, [bad]);
    }
    next();
  };
}
