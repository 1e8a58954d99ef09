/**
 * `tds key rotate`: replace the key of a key file with a fresh one
 * (POST /v1/participants/:id/keys, signed by the current key). The new
 * private key is on disk before the service hears of it, so no crash or lost
 * answer can leave the participant with a registered key nobody holds; the
 * key file is replaced atomically (mode 0600) only once the service
 * accepted, and the old one is kept as a dated backup.
 */
import fs from 'node:fs';
import path from 'node:path';
import { generateKeyPair, privateJwkOf, thumbprintOf } from '../crypto/ed25519.js';
import { TdsApiError, type TdsClient } from '../client/tds-client.js';
import type { ContractSummary } from '../agreements/contract-view.js';
import { errorLine } from '../client/problem-message.js';
import { credentialsText } from '../client/credentials.js';
import { publicJwkFrom } from './participant-commands.js';
import type { CliIo, CommandSpec } from './cli-args.js';

/** What happens to contracts naming the old key, in words (README "Rotated keys"). */
export const ROTATION_CONSEQUENCES = [
  'signatures you already made stay valid: the old key stays on record, so contracts you signed still verify',
  'contracts that name your old key and that you have not signed yet (proposed, or waiting for your countersignature)',
  '  can no longer be signed by you: the service refuses with SIGNING_KEY_ROTATED;',
  '  the consumer proposes again from the same offer to get a document naming the current keys',
  'programs that run with the old key file (tds gateway --credentials, tds node --key, tds monitor) must be restarted',
];

/** A contract whose signed document names the key being rotated out, and what the rotation means for it. */
export interface ContractNamingKey {
  id: string;
  state: string;
  /** The rotating participant's side in it. */
  role: 'provider' | 'consumer';
  datasetTitle: string;
  offerId: string;
  /** The participant signed it already (with the old key, before the rotation): that signature stays valid. */
  signed: boolean;
  /** Not signed by the participant yet: it can no longer be, and the consumer must propose again from the offer. */
  needsReissue: boolean;
}

/** The states in which a document naming a key still matters: not fully signed yet, or in force. */
const OPEN_STATES = ['proposed', 'consumer_signed', 'active'] as const;

/**
 * The caller's proposals and contracts (proposed, consumer_signed, active)
 * whose signed document names it with key `kid`, oldest first: the list
 * endpoint narrows to the caller's own side (the operator and auditors see
 * every contract there), each document is then read for the kid it names.
 */
export async function contractsNamingKey(client: TdsClient, participantId: string, kid: string): Promise<ContractNamingKey[]> {
  const items: ContractSummary[] = [];
  for (const state of OPEN_STATES) items.push(...(await client.listAll<ContractSummary>('/v1/contracts', { state })).items);
  const mine = items.filter((c) => c.provider.id === participantId || c.consumer.id === participantId).sort((a, b) => a.createdAt.localeCompare(b.createdAt));
  const out: ContractNamingKey[] = [];
  for (const item of mine) {
    const c = await client.getContract(item.id);
    const role = c.document.provider.id === participantId ? 'provider' : 'consumer';
    if (c.document[role].kid !== kid) continue;
    const signed = c.signatures.some((sig) => sig.participantId === participantId);
    out.push({ id: c.id, state: c.state, role, datasetTitle: item.datasetTitle, offerId: c.document.offerId, signed, needsReissue: !signed });
  }
  return out;
}

/** The lines saying, contract by contract, what the rotation means. */
export function namingKeyLines(oldKid: string, contracts: ContractNamingKey[]): string[] {
  if (contracts.length === 0) return [`contracts naming the old key ${oldKid}: none (no open proposal or active contract names it)`];
  const lines = [`contracts naming the old key ${oldKid} (${contracts.length}):`];
  const reissue = contracts.filter((c) => c.needsReissue);
  for (const c of reissue) {
    const who = c.role === 'consumer' ? 'propose again' : 'ask the consumer to propose again';
    lines.push(`  ${c.id}  ${c.state}  ${c.datasetTitle} (you: ${c.role})  needs re-issuing: you had not signed it and cannot now; ${who} from offer ${c.offerId}`);
  }
  for (const c of contracts.filter((x) => !x.needsReissue)) {
    const waiting = c.state === 'active' ? 'in force' : 'waits for the other party, whose key is unaffected';
    lines.push(`  ${c.id}  ${c.state}  ${c.datasetTitle} (you: ${c.role})  signed with the old key before the rotation: stays valid (${waiting})`);
  }
  if (reissue.length > 0) lines.push(`${reissue.length} proposal(s) to re-issue: the consumer runs tds contract propose --offer <offer> again, then both sign`);
  return lines;
}

/** `2026-12-01T23:15:00.123Z` -> `20261201T231500Z`. */
function stamp(d: Date): string {
  return d.toISOString().replace(/\.\d+Z$/, 'Z').replace(/[-:]/g, '');
}

/** Write a file durably (fsync), mode 0600, refusing to overwrite. */
function writeNewFile(file: string, text: string): void {
  const fd = fs.openSync(file, 'wx', 0o600);
  try {
    fs.writeSync(fd, text);
    fs.fsyncSync(fd);
  } finally {
    fs.closeSync(fd);
  }
}

function syncDir(dir: string): void {
  try {
    const fd = fs.openSync(dir, 'r');
    try {
      fs.fsyncSync(fd);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    // Not every platform can fsync a directory; the rename itself is still atomic.
  }
}

/** A backup name beside the key file that does not exist yet: `<file>.<UTC time>.bak` (then -1, -2, ...). */
function backupName(keyFile: string, now: Date): string {
  const base = `${keyFile}.${stamp(now)}`;
  for (let i = 0; ; i++) {
    const name = i === 0 ? `${base}.bak` : `${base}-${i}.bak`;
    if (!fs.existsSync(name)) return name;
  }
}

/** Rotate the key of `keyFile` (the client signs with it); resolves to the exit status. */
export async function rotateKeyCommand(client: TdsClient, keyFile: string, json: boolean, io: CliIo, now: () => Date = () => new Date()): Promise<number> {
  const creds = client.credentials;
  if (!creds?.id) throw new Error(`key file ${keyFile} has no participant id: register first (there is nothing to rotate)`);
  // Read with the current key, before it stops authenticating; a failure here is reported after a successful rotation,
  // never a reason not to rotate (a refused rotation says only why it was refused).
  const naming = await contractsNamingKey(client, creds.id, creds.kid).then((list) => ({ list }), (e: unknown) => ({ error: errorLine(e) }));
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  const kid = await thumbprintOf(privateJwk);
  const next = credentialsText({ id: creds.id, kid, privateJwk });
  const pending = `${keyFile}.rotating-${kid.slice(0, 12)}`;
  writeNewFile(pending, next);
  let answer: Awaited<ReturnType<TdsClient['rotateKey']>>;
  try {
    answer = await client.rotateKey(publicJwkFrom(privateJwk));
  } catch (e) {
    if (e instanceof TdsApiError) {
      // Refused: the service kept the old key, so the new one is worthless; nothing else changed.
      fs.rmSync(pending, { force: true });
      throw e;
    }
    throw new Error(
      `${(e as Error).message}; the service may or may not have rotated the key. The new key is kept in ${pending}: if requests with ${keyFile} now fail with KEY_ROTATED, `
      + `move ${pending} over ${keyFile}; otherwise delete it and run tds key rotate again`,
      { cause: e },
    );
  }
  if (answer.kid !== kid) {
    fs.rmSync(pending, { force: true });
    throw new Error(`the service answered with current key ${answer.kid}, not the new key ${kid}; ${keyFile} is unchanged`);
  }
  const backup = backupName(keyFile, now());
  fs.copyFileSync(keyFile, backup, fs.constants.COPYFILE_EXCL);
  fs.chmodSync(backup, 0o600);
  fs.renameSync(pending, keyFile);
  syncDir(path.dirname(path.resolve(keyFile)));
  const listingFailed = 'error' in naming ? `warning: could not list the contracts naming the old key (${naming.error}); see them with tds contracts` : undefined;
  if (json) {
    io.out(JSON.stringify({ id: creds.id, kid, oldKid: creds.kid, keyFile, backup, keys: answer.keys, contractsNamingOldKey: 'list' in naming ? naming.list : null }, null, 2));
    if (listingFailed) io.err(listingFailed);
    return 0;
  }
  io.out(`participant ${creds.id}: key rotated`);
  io.out(`new key: ${kid} (in ${keyFile}, mode 0600)`);
  io.out(`old key: ${creds.kid} (no longer authenticates; backup in ${backup})`);
  for (const line of ROTATION_CONSEQUENCES) io.out(line.startsWith('  ') ? `    ${line.trimStart()}` : `- ${line}`);
  if ('list' in naming) for (const line of namingKeyLines(creds.kid, naming.list)) io.out(line);
  else io.err(listingFailed!);
  return 0;
}

/** `tds key rotate`. */
export const keyRotate: CommandSpec = {
  name: 'key rotate',
  synopsis: '',
  summary: 'replace the key of your key file (--key); the old file is kept as <file>.<time>.bak; lists the proposals and contracts naming the old key',
  run: async ({ io, settings, client }) => rotateKeyCommand(await client(), settings.keyFile, settings.json, io),
};
