/**
 * Path parameters checked at the edge: an object id in a path that is not a
 * UUID names no object, so the route answers NOT_FOUND (as for an unknown id)
 * and services receive only well-formed ids. Called where the handler passes
 * the id on, so every check the route makes before that keeps its order.
 */
import type { Request } from 'express';
import { notFound } from '../errors.js';
import { isUuid } from '../ids.js';

/** The path parameter `name` (default `id`) as a UUID, or NOT_FOUND naming `what` (participant, dataset, ...). */
export function pathId(req: Request, what: string, name = 'id'): string {
  const value = req.params[name];
  if (!isUuid(value)) throw notFound(what, String(value));
  return value;
}
