/**
 * `tds keygen`, `register`, `approve`, `suspend` and `standing`: the key file
 * life cycle and the participant-facing reads. The private key never leaves
 * the key file; the service only ever sees the public JWK and signatures.
 */
import fs from 'node:fs';
import { generateKeyPair, privateJwkOf, thumbprintOf, type PrivateJwk, type PublicJwk } from '../crypto/ed25519.js';
import type { Standing, TdsClient } from '../client/tds-client.js';
import { credentialsText } from '../client/credentials.js';
import { choiceOption, requireList, requireOption, stringOption, type CliIo, type CommandSpec } from './cli-args.js';

/** Public half of a private JWK. */
export function publicJwkFrom(privateJwk: PrivateJwk): PublicJwk {
  return { kty: privateJwk.kty, crv: privateJwk.crv, x: privateJwk.x };
}

/** `tds keygen`: write a fresh `{kid, privateJwk}` (0600, never overwriting) and print the kid and public JWK. */
export async function keygenCommand(out: string, io: CliIo): Promise<number> {
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  const kid = await thumbprintOf(privateJwk);
  try {
    // 'wx': an existing key file may be the only copy of a registered identity.
    fs.writeFileSync(out, credentialsText({ kid, privateJwk }), { mode: 0o600, flag: 'wx' });
  } catch (e) {
    if ((e as NodeJS.ErrnoException).code === 'EEXIST') throw new Error(`${out} already exists; refusing to overwrite a key file`, { cause: e });
    throw e;
  }
  io.out(`wrote ${out} (keep it secret: it is your identity in the data space)`);
  io.out(`kid: ${kid}`);
  io.out(`public JWK: ${JSON.stringify(publicJwkFrom(privateJwk))}`);
  return 0;
}

/** `tds register`: register the key file's key and store the new participant id in the file. */
export async function registerCommand(
  client: TdsClient,
  keyFile: string,
  input: { name: string; roles: string[]; organization?: string; contact?: string },
  io: CliIo,
): Promise<number> {
  const creds = client.credentials;
  if (!creds) throw new Error('no credentials');
  if (creds.id) throw new Error(`${keyFile} is already registered as participant ${creds.id}`);
  const res = await client.register({ ...input, publicKeyJwk: publicJwkFrom(creds.privateJwk) });
  const doc = { id: res.id, kid: creds.kid, privateJwk: creds.privateJwk };
  // Write beside, then rename: a crash must not leave a half-written key file.
  const tmp = `${keyFile}.${process.pid}.tmp`;
  fs.writeFileSync(tmp, credentialsText(doc), { mode: 0o600, flag: 'wx' });
  fs.renameSync(tmp, keyFile);
  io.out(`id: ${res.id}`);
  io.out(`status: ${res.status}`);
  if (res.status === 'pending') io.out('an operator must approve this participant before it can act');
  return 0;
}

/** `tds approve` / `tds suspend` (operator key). */
export async function statusCommand(client: TdsClient, action: 'approve' | 'suspend', participantId: string, io: CliIo): Promise<number> {
  const res = action === 'approve' ? await client.approve(participantId) : await client.suspend(participantId);
  io.out(`${res.id}: ${res.status}`);
  return 0;
}

/** The standing as readable lines: whether the next release would be authorized and what one more would need, each rule, shared datasets. */
export function formatStanding(s: Standing): string[] {
  const lines = [`research field: ${s.researchField}${s.contractId ? ` (next release under contract ${s.contractId})` : ''}`];
  lines.push(`next release of others' data: ${s.mayAccess ? 'authorized' : 'refused'}`);
  if (s.nextRelease?.needs) lines.push(`  ${s.nextRelease.needs}`);
  for (const [k, v] of Object.entries(s.nextRelease?.byKind ?? {})) {
    lines.push(`  ${k} datasets: ${v.authorized ? 'authorized' : 'refused'}${v.needs ? `: ${v.needs}` : ''}`);
  }
  lines.push(`releases: received from others ${s.releases.receivedFromOthers}, given to others ${s.releases.givenToOthers}`);
  lines.push(s.rules.length === 0 ? `rules: none apply${s.contractId ? '' : ' (space-wide)'}` : 'rules:');
  for (const r of s.rules) {
    lines.push(`  [${r.holds ? 'holds' : 'unmet'}] ${r.kind} (${r.ruleId})`);
    for (const e of r.evidence) lines.push(`      evidence: ${e}`);
    if (!r.holds && r.missing) lines.push(`      missing: ${r.missing}`);
    for (const p of r.pending ?? []) lines.push(`      pending: ${p}`);
  }
  lines.push(`shared datasets: ${s.shared.length}`);
  for (const d of s.shared) {
    const counted = d.contributed === undefined ? '' : d.contributed ? ', contributed' : ', not yet shown real (does not count)';
    lines.push(`  ${d.id} ${d.kind}${d.publishedAt ? ` published ${d.publishedAt}` : ''}${counted}`);
  }
  if (s.withheld.length > 0) {
    lines.push(`not shared: ${s.withheld.length}`);
    for (const d of s.withheld) lines.push(`  ${d.id} ${d.kind}: ${d.withdrawn ? 'withdrawn' : 'no active offer'}`);
  }
  return lines;
}

/** `tds standing --field F` or `--contract ID`. */
export async function standingCommand(client: TdsClient, field: string | undefined, kind: 'raw' | 'insight' | undefined, json: boolean, io: CliIo, contractId?: string): Promise<number> {
  const s = await client.standing(field, kind, contractId);
  if (json) io.out(JSON.stringify(s, null, 2));
  else for (const line of formatStanding(s)) io.out(line);
  return 0;
}

/** `tds keygen`. */
export const keygen: CommandSpec = {
  name: 'keygen',
  synopsis: '[--out FILE]',
  summary: 'create a new Ed25519 key file (mode 0600)',
  options: { out: { type: 'string' } },
  run: ({ p, io, settings }) => keygenCommand(stringOption(p, 'out') ?? settings.keyFile, io),
};

/** `tds register`. */
export const register: CommandSpec = {
  name: 'register',
  synopsis: '--name N --roles provider,consumer [--organization O] [--contact C]',
  summary: 'register the key file\'s key; stores the id in it',
  options: { name: { type: 'string' }, roles: { type: 'string' }, organization: { type: 'string' }, contact: { type: 'string' } },
  run: async ({ p, io, settings, client }) => {
    const roles = requireList(p, 'roles');
    const organization = stringOption(p, 'organization');
    const contact = stringOption(p, 'contact');
    const input = { name: requireOption(p, 'name'), roles, ...(organization ? { organization } : {}), ...(contact ? { contact } : {}) };
    return registerCommand(await client(), settings.keyFile, input, io);
  },
};

/** `tds approve` and `tds suspend`. */
export const approve: CommandSpec = {
  name: 'approve',
  synopsis: '<participantId>',
  summary: 'operator: activate a participant',
  positionals: [1, 1],
  run: async ({ p, io, client }) => statusCommand(await client(), 'approve', p.positionals[0]!, io),
};

/** `tds suspend`. */
export const suspend: CommandSpec = {
  name: 'suspend',
  synopsis: '<participantId>',
  summary: 'operator: suspend a participant',
  positionals: [1, 1],
  run: async ({ p, io, client }) => statusCommand(await client(), 'suspend', p.positionals[0]!, io),
};

/** `tds standing`. */
export const standing: CommandSpec = {
  name: 'standing',
  synopsis: '--field F [--kind raw|insight] | --contract ID',
  summary: 'your reciprocity standing: would your next release be authorized, and what would one more need',
  options: { field: { type: 'string' }, kind: { type: 'string' }, contract: { type: 'string' } },
  run: async ({ p, io, settings, client }) => {
    const kind = choiceOption(p, 'kind', ['raw', 'insight'] as const);
    const contract = stringOption(p, 'contract');
    const field = contract === undefined ? requireOption(p, 'field') : stringOption(p, 'field');
    return standingCommand(await client(), field, kind, settings.json, io, contract);
  },
};
