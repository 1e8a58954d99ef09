/**
 * The witness's durable state: one JSON file per log origin holding the
 * latest cosigned size, root and the full checkpoint (log signature and
 * cosignature), written atomically (temporary file, fsync, rename, fsync of
 * the directory) so that after a crash at any point the file holds either the
 * old record or the new one, and never a cosignature that was not recorded.
 * Refused checkpoints that the log did sign (proof of misbehaviour) are
 * appended to evidence.log.
 */
import fs from 'node:fs';
import path from 'node:path';
import { sha256, toHex, utf8 } from '../crypto/sha256.js';
import type { WitnessRecord } from './add-checkpoint.js';

/** Hex SHA-256 of an origin: the file name of its record and the monitoring path segment (tlog-witness). */
export function originHash(origin: string): string {
  return toHex(sha256(utf8(origin)));
}

function fsyncPath(p: string, flags: string): void {
  const fd = fs.openSync(p, flags);
  try {
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

/** Reads and writes the records of one state directory; the caller serialises writes per origin. */
export class WitnessState {
  readonly #dir: string;
  readonly #cache = new Map<string, WitnessRecord>();

  constructor(dir: string) {
    this.#dir = path.resolve(dir);
    fs.mkdirSync(this.#dir, { recursive: true, mode: 0o700 });
    for (const name of fs.readdirSync(this.#dir)) {
      if (!/^[0-9a-f]{64}\.json$/.test(name)) continue;
      const file = path.join(this.#dir, name);
      let record: WitnessRecord;
      try {
        record = JSON.parse(fs.readFileSync(file, 'utf8')) as WitnessRecord;
      } catch (e) {
        throw new Error(`witness state file ${file} (--state) is not JSON: ${(e as Error).message}; restore it from a backup (a witness must not forget what it cosigned)`, { cause: e });
      }
      if (typeof record?.origin !== 'string' || !Number.isSafeInteger(record.size) || typeof record.rootHash !== 'string' || typeof record.checkpoint !== 'string') {
        throw new Error(`witness state file ${file} (--state) is not a record {origin, size, rootHash, checkpoint}`);
      }
      if (`${originHash(record.origin)}.json` !== name) throw new Error(`witness state file ${file} (--state) does not belong to origin ${record.origin}`);
      this.#cache.set(record.origin, record);
    }
  }

  /** The latest record of an origin (as last persisted), or undefined. */
  latest(origin: string): WitnessRecord | undefined {
    return this.#cache.get(origin);
  }

  /** The record whose origin hashes to `hash`, for the monitoring endpoint. */
  byOriginHash(hash: string): WitnessRecord | undefined {
    for (const r of this.#cache.values()) if (originHash(r.origin) === hash) return r;
    return undefined;
  }

  /** Persists a record durably and atomically, then makes it the latest. Throws (nothing changed) when the disk refuses. */
  save(record: WitnessRecord): void {
    const file = path.join(this.#dir, `${originHash(record.origin)}.json`);
    const tmp = `${file}.${process.pid}.tmp`;
    const fd = fs.openSync(tmp, 'w', 0o600);
    try {
      fs.writeSync(fd, `${JSON.stringify(record)}\n`);
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
    fs.renameSync(tmp, file);
    // The rename is durable only once the directory entry is.
    fsyncPath(this.#dir, 'r');
    this.#cache.set(record.origin, record);
  }

  /** Appends a refused but log-signed request (and why) to evidence.log, best effort. */
  keepEvidence(reason: string, request: string): void {
    const line = `${JSON.stringify({ at: new Date().toISOString(), reason, request })}\n`;
    fs.appendFileSync(path.join(this.#dir, 'evidence.log'), line, { mode: 0o600 });
  }
}
