/**
 * Token buckets for unauthenticated work (registration): one bucket per
 * source address and one for the whole service, so neither one client nor
 * many can register participants without bound. Over the limit: 429
 * RATE_LIMITED with Retry-After (seconds until a token is back). In-process:
 * with several service processes each holds its own buckets (the pending
 * cap in the database bounds the total either way).
 */
import type { RequestHandler } from 'express';
import { rateLimited } from '../errors.js';

/** Per-minute rates: burst = rate (a full minute's worth), refilled continuously. */
export interface RateLimits {
  perAddressPerMinute: number;
  globalPerMinute: number;
}

class Bucket {
  private tokens: number;
  private at: number;
  constructor(private readonly perMinute: number, now: number) {
    this.tokens = perMinute;
    this.at = now;
  }
  /** Take a token; returns 0 when taken, else the seconds until one is back. */
  take(now: number): number {
    this.tokens = Math.min(this.perMinute, this.tokens + ((now - this.at) / 60_000) * this.perMinute);
    this.at = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 60) / this.perMinute));
  }
  full(now: number): boolean {
    return this.tokens + ((now - this.at) / 60_000) * this.perMinute >= this.perMinute;
  }
}

/** Middleware limiting requests per source address and globally. */
export function rateLimit(limits: RateLimits, now: () => number = Date.now): RequestHandler {
  const perAddress = new Map<string, Bucket>();
  const global = new Bucket(limits.globalPerMinute, now());
  return (req, res, next) => {
    const t = now();
    const address = req.socket.remoteAddress ?? 'unknown';
    let b = perAddress.get(address);
    if (!b) {
      if (perAddress.size > 50_000) for (const [k, v] of perAddress) if (v.full(t)) perAddress.delete(k);
      b = new Bucket(limits.perAddressPerMinute, t);
      perAddress.set(address, b);
    }
    const wait = b.take(t) || global.take(t);
    if (wait > 0) {
      res.setHeader('Retry-After', String(wait));
      throw rateLimited(`too many registrations; retry in ${wait} s`);
    }
    next();
  };
}
