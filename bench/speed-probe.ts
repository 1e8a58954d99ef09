/**
 * How fast the machine is right now: a fixed single-threaded CPU task (SHA-256
 * over 8 MiB in 64 KiB chunks, best of 3) timed before and after each phase.
 * On the shared 2-core machine the same phase has run twice as slow from one
 * minute to the next (proof GET p50 0.95 ms in one round, 3.3 ms in the next,
 * same build and data), so every figure is printed with the probe times of
 * its phase: a slow figure next to a slow probe is the machine, not the code.
 */
import { createHash } from 'node:crypto';
import { nowMs, round } from './stats.js';

const CHUNK = Buffer.alloc(64 * 1024, 0x5a);
const CHUNKS = 128;

/** Milliseconds the fixed task takes now (best of 3). */
export function speedProbeMs(): number {
  let best = Infinity;
  for (let r = 0; r < 3; r++) {
    const t0 = nowMs();
    for (let i = 0; i < CHUNKS; i++) createHash('sha256').update(CHUNK).digest();
    best = Math.min(best, nowMs() - t0);
  }
  return round(best, 2);
}

/** The probe before and after each phase, by phase name. */
export type SpeedProbes = Record<string, { beforeMs: number; afterMs: number }>;
