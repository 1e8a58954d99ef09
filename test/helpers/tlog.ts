/**
 * A small in-memory transparency log for witness tests: leaves, signed
 * checkpoints of any size and consistency proofs, built with the ledger's own
 * pure modules and a log key made here, so a test can sign a true history or
 * a forged one with the same key.
 */
import { generateKeyPair, publicKeyOf } from '../../src/crypto/ed25519.js';
import { sha256, toBase64 } from '../../src/crypto/sha256.js';
import { formatCheckpointBody, signNote, verifierKey } from '../../src/ledger/checkpoint.js';
import { consistencyProof, rootFromLeafHashes } from '../../src/ledger/merkle.js';

/** A log under test: add leaves, then sign checkpoints and prove consistency. */
export class TestLog {
  readonly leaves: Uint8Array[] = [];
  constructor(
    readonly origin: string,
    readonly secretKey: Uint8Array = generateKeyPair().secretKey,
  ) {}

  get vkey(): string {
    return verifierKey(this.origin, publicKeyOf(this.secretKey));
  }

  /** Appends n leaves whose content starts with `tag` (two logs with different tags are different histories). */
  grow(n: number, tag = 'leaf'): this {
    for (let i = 0; i < n; i++) this.leaves.push(sha256(`${tag}-${this.leaves.length}`));
    return this;
  }

  root(size = this.leaves.length): Uint8Array {
    return rootFromLeafHashes(this.leaves.slice(0, size));
  }

  /** The signed checkpoint note of the first `size` leaves (another key: a checkpoint the witness must refuse). */
  checkpoint(size = this.leaves.length, key = this.secretKey): string {
    return signNote(formatCheckpointBody({ origin: this.origin, size, rootHash: this.root(size) }), this.origin, key);
  }

  proof(from: number, to = this.leaves.length): string[] {
    return from === 0 ? [] : consistencyProof(from, to, this.leaves).map(toBase64);
  }

  /** An add-checkpoint request body. */
  request(old: number, size = this.leaves.length, opts: { proof?: string[]; note?: string } = {}): string {
    const proof = opts.proof ?? this.proof(old, size);
    return `old ${old}\n${proof.map((p) => `${p}\n`).join('')}\n${opts.note ?? this.checkpoint(size)}`;
  }
}

