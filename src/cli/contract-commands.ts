/**
 * `tds contract sign` and `tds contract verify`. Signing never trusts the
 * server's canonical string: it recomputes the RFC 8785 form and digest from
 * the document it shows the user, so what is displayed is what is signed.
 * Verification re-checks both signatures locally with the parties' keys.
 */
import fs from 'node:fs';
import { canonicalizeContract, keysByKid, verifyExportedContract, type ContractDocument, type ExportedSignature, type OfflineVerification, type VerificationKey } from '../agreements/contract-document.js';
import { secretKeyFromJwk, sign } from '../crypto/ed25519.js';
import { toBase64Url, utf8 } from '../crypto/sha256.js';
import type { TdsClient } from '../client/tds-client.js';
import type { ContractView } from '../agreements/contract-view.js';
import { termsInWords } from '../agreements/terms-text.js';
import { stringOption, type CliIo, type CommandSpec } from './cli-args.js';
import { formatFields } from './table.js';

/** The terms a signer should see before signing, one per line, in words (terms-text.ts, shared with the console), values aligned. */
export function describeContract(c: ContractView): string[] {
  const d = c.document;
  return formatFields([
    ['contract', `${c.id} (${c.state})`],
    ...termsInWords(d),
    ['digest (sha256)', canonicalizeContract(d).digest],
  ]);
}

/** Sign the canonical bytes with a private JWK: base64url Ed25519, the body of POST /contracts/:id/signatures. */
export function signCanonical(canonical: string, privateJwk: Parameters<typeof secretKeyFromJwk>[0]): string {
  return toBase64Url(sign(utf8(canonical), secretKeyFromJwk(privateJwk)));
}

/**
 * `tds contract sign <id>`: fetch, recompute canonical form and digest
 * (refusing when the server's differ), check the caller is a party and holds
 * the key the document names, show the terms, confirm, sign, submit.
 */
export async function signContractCommand(opts: { client: TdsClient; contractId: string; yes: boolean; io: CliIo }): Promise<number> {
  const { client, io } = opts;
  const creds = client.credentials;
  if (!creds?.id) throw new Error('the key file has no participant id: register first');
  const c = await client.getContract(opts.contractId);
  const { canonical, digest } = canonicalizeContract(c.document);
  if (canonical !== c.canonical || digest !== c.digest) {
    io.err('refusing to sign: the canonical form or digest sent by the service does not match the document');
    io.err(`  recomputed digest ${digest}, service sent ${c.digest}`);
    return 1;
  }
  const party = c.document.consumer.id === creds.id ? 'consumer' : c.document.provider.id === creds.id ? 'provider' : undefined;
  if (!party) throw new Error(`participant ${creds.id} is not a party to contract ${c.id}`);
  const named = c.document[party].kid;
  if (named !== creds.kid) {
    throw new Error(`the contract names key ${named} for the ${party}, but the key file holds ${creds.kid}`
      + ' (if you rotated your key since the proposal, it cannot be signed any more: the consumer proposes again from the same offer)');
  }
  if (c.signatures.some((s) => s.participantId === creds.id && s.kid === creds.kid)) {
    io.out(`already signed as ${party}; state: ${c.state}`);
    return 0;
  }
  for (const line of describeContract(c)) io.out(line);
  if (!opts.yes) {
    if (!io.isTTY) throw new Error('not a terminal: re-run with --yes to sign without confirmation');
    const answer = (await io.prompt(`sign as ${party}? [y/N] `)).trim().toLowerCase();
    if (answer !== 'y' && answer !== 'yes') {
      io.out('not signed');
      return 1;
    }
  }
  const res = await client.signContract(c.id, { kid: creds.kid, signature: signCanonical(canonical, creds.privateJwk) });
  io.out(`signed as ${party}; state: ${res.state}`);
  return 0;
}

/** An exported contract plus optional keys, as `contract verify` reads it from a file. */
export interface ContractFile {
  document: ContractDocument;
  canonical?: string;
  digest?: string;
  signatures: ExportedSignature[];
  state?: string;
  keys?: unknown;
}

/** Keys by kid from a keys file or a participant's directory entry (with their rotation history when it has one). */
export { keysByKid };

function readJson(file: string, what: string): unknown {
  try {
    return JSON.parse(fs.readFileSync(file, 'utf8'));
  } catch (e) {
    const code = (e as NodeJS.ErrnoException).code;
    throw new Error(`cannot read ${what} ${file}: ${code ?? 'not JSON'}`, { cause: e });
  }
}

/** What a state means for the parties, beside the signatures' verdict. */
function stateText(state: string | undefined): string {
  switch (state) {
    case 'active': return 'active: in force';
    case 'proposed': return 'proposed: not in force (waiting for the consumer\'s signature)';
    case 'consumer_signed': return 'consumer_signed: not in force (waiting for the provider\'s countersignature)';
    case 'revoked': return 'revoked: no longer in force';
    case 'expired': return 'expired: past its validity window';
    case 'exhausted': return 'exhausted: every invocation used';
    case undefined: return 'not recorded';
    default: return state;
  }
}

/**
 * `tds contract verify <id|file>`: a file is checked fully offline (keys from
 * the file's `keys` or --keys); an id fetches the contract and the parties'
 * registered keys with their history, then checks locally, including that
 * each key was current when it signed. `save` writes contract + keys (with
 * their history) as a file that can be re-verified later without the service.
 * It says where each key came from, the contract's state and, when revoked, why.
 */
export async function verifyContractCommand(opts: { target: string; keysFile?: string; save?: string; client?: () => TdsClient; io: CliIo }): Promise<number> {
  const { io } = opts;
  let exported: ContractFile & { revokeReason?: string | null };
  let keys: Record<string, VerificationKey>;
  // Where each key came from, by kid (said in the output: a key is only as trustworthy as its source).
  const source: Record<string, string> = {};
  const take = (found: Record<string, VerificationKey>, from: string) => {
    for (const [kid, jwk] of Object.entries(found)) {
      keys[kid] = jwk;
      source[kid] = from;
    }
  };
  const isFile = opts.target.endsWith('.json') || fs.existsSync(opts.target);
  if (isFile) {
    exported = readJson(opts.target, 'contract file') as ContractFile;
    if (!exported || typeof exported !== 'object' || !exported.document || !Array.isArray(exported.signatures)) {
      throw new Error(`${opts.target} is not an exported contract (needs document and signatures)`);
    }
    keys = {};
    take(keysByKid(exported.keys ?? {}), `pinned in ${opts.target} (offline)`);
    if (opts.keysFile) take(keysByKid(readJson(opts.keysFile, 'keys file')), `from ${opts.keysFile} (--keys, offline)`);
  } else {
    if (!opts.client) throw new Error('a contract id needs a service; pass a file for offline verification');
    const client = opts.client();
    exported = await client.getContract(opts.target);
    keys = {};
    if (opts.keysFile) take(keysByKid(readJson(opts.keysFile, 'keys file')), `from ${opts.keysFile} (--keys)`);
    for (const party of ['consumer', 'provider'] as const) {
      const named = exported.document?.[party];
      if (named && !Object.prototype.hasOwnProperty.call(keys, named.kid)) take(keysByKid((await client.getParticipant(named.id)).keys), `from the service's participant directory (${client.baseUrl}/v1/participants/${named.id})`);
    }
  }
  let result: OfflineVerification;
  try {
    result = verifyExportedContract(exported, keys);
  } catch (e) {
    // A document that cannot even be canonicalised (or lacks its parties) is a failed verification, not a crash.
    result = { ok: false, problems: [`the document is malformed: ${(e as Error).message}`] };
  }
  if (!isFile && exported.document?.id !== opts.target) result = { ok: false, problems: [...result.problems, `the document's id is not ${opts.target}`] };
  if (opts.save) {
    const kids = [exported.document?.consumer?.kid, exported.document?.provider?.kid].filter((k): k is string => typeof k === 'string' && keys[k] !== undefined);
    const doc = { ...exported, keys: Object.fromEntries(kids.map((k) => [k, keys[k]])) };
    fs.writeFileSync(opts.save, `${JSON.stringify(doc, null, 2)}\n`, { flag: 'wx' });
    io.out(`saved contract and keys to ${opts.save}`);
  }
  for (const n of result.notes ?? []) io.err(`note: ${n}`);
  if (!result.ok) {
    io.err(`contract ${exported.document?.id ?? opts.target}: INVALID`);
    for (const p of result.problems) io.err(`  - ${p}`);
    return 1;
  }
  const d = exported.document;
  io.out(`contract ${d.id}: valid`);
  io.out(`  state ${isFile ? 'when exported' : 'now'}: ${stateText(exported.state)}${isFile ? ' (verify by id for the current state)' : ''}`);
  if (exported.state === 'revoked') io.out(`  revocation reason: ${exported.revokeReason ?? 'not recorded'}`);
  io.out(`  digest ${canonicalizeContract(d).digest}`);
  for (const party of ['consumer', 'provider'] as const) {
    const named = d[party];
    const sig = exported.signatures.find((s) => s.participantId === named.id && s.kid === named.kid);
    const key = keys[named.kid];
    const when = key?.revokedAt === undefined ? '' : `${sig?.signedAt ? ` at ${sig.signedAt}` : ''}, ${key.revokedAt === null ? 'a key still current' : `before the key was rotated out at ${key.revokedAt}`}`;
    io.out(`  ${party} ${named.name ? `${named.name} (${named.id})` : named.id} signed with ${named.kid}${when}`);
    io.out(`    key ${source[named.kid] ?? 'of unknown source'}`);
  }
  return 0;
}

/** `tds contract sign`. */
export const contractSign: CommandSpec = {
  name: 'contract sign',
  synopsis: '<contractId> [--yes]',
  summary: 'check, show and sign a contract with your key',
  options: { yes: { type: 'boolean', short: 'y' } },
  positionals: [1, 1],
  run: async ({ p, io, client }) => signContractCommand({ client: await client(), contractId: p.positionals[0]!, yes: p.values.yes === true, io }),
};

/** `tds contract verify`. */
export const contractVerify: CommandSpec = {
  name: 'contract verify',
  synopsis: '<contractId|file.json> [--keys keys.json] [--save file.json]',
  summary: 're-verify both signatures locally',
  options: { keys: { type: 'string' }, save: { type: 'string' } },
  positionals: [1, 1],
  run: async ({ p, io, client }) => {
    const target = p.positionals[0]!;
    const c = target.endsWith('.json') || fs.existsSync(target) ? undefined : await client();
    return verifyContractCommand({ target, keysFile: stringOption(p, 'keys'), save: stringOption(p, 'save'), client: c && (() => c), io });
  },
};
