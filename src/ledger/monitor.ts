/**
 * What a party's monitor checks at each poll, pure: that a newly served
 * checkpoint extends the one it kept (same size: same root; larger: the
 * consistency proof verifies; smaller: a rollback), that each of its entries
 * is the one the leaf hash commits to and is included under the signed root
 * and names the party, and a one-line description of each event for people.
 */
import { fromBase64, toBase64 } from '../crypto/sha256.js';
import { canonicalEntryText, leafHashOfText, type LedgerEntry } from './ledger-entry.js';
import { verifyConsistency, verifyInclusion } from './merkle.js';
import type { ParsedCheckpoint } from './checkpoint.js';
import { LedgerError } from './ledger-error.js';

/** Two checkpoints of the same log that cannot both be true (a split view or a rewrite). */
export class InconsistentCheckpoints extends LedgerError {
  override readonly name = 'InconsistentCheckpoints';
  constructor(message: string, options?: ErrorOptions) {
    super('LEDGER_INCONSISTENT', message, options);
  }
}

const label = (c: ParsedCheckpoint): string => `checkpoint ${c.origin} size ${c.size} root ${toBase64(c.rootHash)}`;

/**
 * The log's refusal to give a proof a check needs (its problem detail): a
 * log that signed a checkpoint and will not prove it is as inconsistent as
 * one whose proof fails. Only a refusal of the request counts, never a
 * failure to reach the log.
 */
export interface ProofRefused {
  refused: string;
}

/**
 * Checks that `offered` extends `kept`, given the service's consistency
 * proof from kept.size to offered.size (unused when the sizes are equal), or
 * the log's refusal to give it. Throws InconsistentCheckpoints naming both
 * checkpoints.
 */
export function checkExtends(kept: ParsedCheckpoint, offered: ParsedCheckpoint, proof: string[] | ProofRefused | undefined): void {
  const both = `${label(kept)} (kept) and ${label(offered)} (served now)`;
  if (kept.origin !== offered.origin) throw new InconsistentCheckpoints(`${both} are of different logs`);
  if (offered.size < kept.size) throw new InconsistentCheckpoints(`${both}: the log shrank (rollback)`);
  if (kept.size === 0) return;
  if (offered.size > kept.size && proof !== undefined && !Array.isArray(proof)) throw new InconsistentCheckpoints(`${both} are not proven consistent: the log refuses the consistency proof from ${kept.size} to ${offered.size} (${proof.refused})`);
  try {
    verifyConsistency(kept.size, offered.size, offered.size === kept.size || !Array.isArray(proof) ? [] : proof.map(fromBase64), kept.rootHash, offered.rootHash);
  } catch (err) {
    throw new InconsistentCheckpoints(`${both} are not consistent: ${(err as Error).message}`, { cause: err });
  }
}

/** A party-view entry as served: the entry object, its leaf hash and inclusion proof. */
export interface ProvenEntry {
  index: number;
  entry: unknown;
  leafHash: string;
  proof: string[];
}

/**
 * Checks one served entry against the verified checkpoint: its RFC 8785
 * bytes hash to the served leaf hash, its index is its position, the proof
 * includes it under the root, and it names `participantId`. Throws a LedgerError
 * naming the entry; returns the entry.
 */
export function checkPartyEntry(e: ProvenEntry, checkpoint: ParsedCheckpoint, participantId: string): LedgerEntry {
  const entry = e.entry as LedgerEntry;
  if (typeof entry !== 'object' || entry === null || entry.index !== e.index) throw new LedgerError('LEDGER_MALFORMED_ENTRY', `entry ${e.index}: the served entry does not carry its index`);
  const leaf = leafHashOfText(canonicalEntryText(entry));
  if (toBase64(leaf) !== e.leafHash) throw new LedgerError('LEDGER_ENTRY_CHANGED', `entry ${e.index}: its bytes do not hash to the served leaf hash`);
  if (!Array.isArray(e.proof) || !e.proof.every((h) => typeof h === 'string')) throw new LedgerError('LEDGER_BAD_PROOF', `entry ${e.index}: no inclusion proof served for ${label(checkpoint)}`);
  try {
    verifyInclusion(e.index, checkpoint.size, leaf, e.proof.map(fromBase64), checkpoint.rootHash);
  } catch (err) {
    throw new LedgerError('LEDGER_BAD_PROOF', `entry ${e.index}: bad inclusion proof for ${label(checkpoint)}: ${(err as Error).message}`, { cause: err });
  }
  if (entry.actor !== participantId && !Object.values(entry.subjects ?? {}).includes(participantId)) throw new LedgerError('LEDGER_NOT_PARTY_ENTRY', `entry ${e.index} does not name ${participantId}`);
  return entry;
}

const str = (v: unknown): string => (typeof v === 'string' || typeof v === 'number' ? String(v) : '?');

/** One line about an event for the party that runs the monitor. */
export function describeEvent(e: LedgerEntry): string {
  const s = e.subjects ?? {};
  const d = (e.data ?? {}) as Record<string, unknown>;
  const at = `[${e.index} ${e.at}]`;
  switch (e.kind) {
    case 'job.authorized': {
      const of = typeof d.invocation === 'number' && typeof d.remaining === 'number' ? `, invocation ${d.invocation} of ${d.invocation + d.remaining}` : '';
      return `${at} dataset ${str(s.dataset)} released to job ${str(s.job)} for purpose ${str(d.purpose)}${of} (consumer ${str(s.consumer)}, contract ${str(s.contract)})`;
    }
    case 'job.denied':
      return `${at} job refused on contract ${str(s.contract)}: ${str(d.reason ?? d.code)} (consumer ${str(s.consumer)})`;
    case 'job.completed':
      return `${at} job ${str(s.job)} on dataset ${str(s.dataset)} completed, result digest ${str(d.resultDigest)}`;
    case 'contract.proposed':
      return `${at} contract ${str(s.contract)} proposed on dataset ${str(s.dataset)} by ${str(s.consumer)}`;
    case 'contract.signed':
      return `${at} contract ${str(s.contract)} signed by the ${str(d.party)}`;
    case 'contract.activated':
    case 'contract.revoked':
    case 'contract.expired':
    case 'contract.exhausted':
      return `${at} contract ${str(s.contract)} on dataset ${str(s.dataset)} ${e.kind.split('.')[1]}`;
    case 'dataset.published':
    case 'dataset.withdrawn':
    case 'dataset.attested':
      return `${at} dataset ${str(s.dataset)} ${e.kind.split('.')[1]}`;
    default: {
      const subjects = Object.entries(s).map(([k, v]) => `${k} ${v}`).join(', ');
      return `${at} ${e.kind}${subjects ? ` (${subjects})` : ''}`;
    }
  }
}
