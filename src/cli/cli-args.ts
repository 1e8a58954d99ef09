/**
 * Argument parsing of the `tds` command, kept pure so that every usage error
 * is unit-tested without a service: find the command words, then let
 * node:util parseArgs check that command's options strictly.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';

/** Where a command writes and what it knows about its terminal: injectable so tests capture output. */
export interface CliIo {
  /** Write one line to standard output. */
  out(line: string): void;
  /** Write one line to standard error. */
  err(line: string): void;
  /** True when a person can answer questions (stdin and stdout are terminals). */
  isTTY: boolean;
  /** Ask a question and resolve to the answer (only called when isTTY). */
  prompt(question: string): Promise<string>;
  /** Environment variables (TDS_URL, TDS_KEY, TDS_AUDIENCE). */
  env: Record<string, string | undefined>;
}

/** A bad command line: the dispatcher prints the message and the usage to stderr and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

type Options = NonNullable<ParseArgsConfig['options']>;

// --key means the credentials file everywhere except `gateway`, where it is the TLS key (like openssl and nginx).
const GLOBAL: Options = {
  service: { type: 'string' },
  key: { type: 'string' },
  audience: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
};
const GLOBAL_VALUE_OPTIONS = new Set(['--service', '--key', '--audience']);

interface CommandSpec {
  options: Options;
  positionals: [min: number, max: number];
  /** Takes the words after `--` as a command to run. */
  rest?: boolean;
  /** Hands the arguments unparsed to another module (verify, ledger export). */
  delegate?: boolean;
}

const COMMANDS: Record<string, CommandSpec> = {
  help: { options: {}, positionals: [0, 1] },
  keygen: { options: { out: { type: 'string' } }, positionals: [0, 0] },
  register: { options: { name: { type: 'string' }, roles: { type: 'string' }, organization: { type: 'string' }, contact: { type: 'string' } }, positionals: [0, 0] },
  approve: { options: {}, positionals: [1, 1] },
  suspend: { options: {}, positionals: [1, 1] },
  'dataset publish': {
    options: { title: { type: 'string' }, description: { type: 'string' }, field: { type: 'string' }, kind: { type: 'string' }, url: { type: 'string' }, file: { type: 'string' }, 'media-type': { type: 'string' }, license: { type: 'string' } },
    positionals: [0, 0],
  },
  'offer create': { options: { purposes: { type: 'string' }, 'max-invocations': { type: 'string' }, 'valid-from': { type: 'string' }, 'valid-until': { type: 'string' }, rules: { type: 'string' } }, positionals: [1, 1] },
  'contract propose': { options: { offer: { type: 'string' }, purposes: { type: 'string' }, 'max-invocations': { type: 'string' }, 'valid-from': { type: 'string' }, 'valid-until': { type: 'string' } }, positionals: [0, 0] },
  'contract sign': { options: { yes: { type: 'boolean', short: 'y' } }, positionals: [1, 1] },
  'contract verify': { options: { keys: { type: 'string' }, save: { type: 'string' } }, positionals: [1, 1] },
  standing: { options: { field: { type: 'string' }, kind: { type: 'string' }, json: { type: 'boolean' } }, positionals: [0, 0] },
  gateway: { options: { dir: { type: 'string' }, cert: { type: 'string' }, port: { type: 'string' }, host: { type: 'string' }, provider: { type: 'string' }, ca: { type: 'string' } }, positionals: [0, 0] },
  'job run': { options: { contract: { type: 'string' }, purpose: { type: 'string' }, 'idempotency-key': { type: 'string' }, ca: { type: 'string' }, 'work-dir': { type: 'string' } }, positionals: [0, 0], rest: true },
  verify: { options: {}, positionals: [0, 0], delegate: true },
  'ledger export': { options: {}, positionals: [0, 0], delegate: true },
};
const GROUPS = new Set(['contract', 'job', 'ledger', 'dataset', 'offer']);

/** A parsed command line. */
export interface ParsedCommand {
  /** The command words, e.g. `contract sign`. */
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Words after `--` (job run). */
  rest: string[];
  /** The arguments without the command words, for delegated commands. */
  argv: string[];
}

/**
 * Parse `argv` (without node and script). Throws UsageError for an unknown
 * command, an unknown option, a missing value or a wrong number of arguments.
 * An empty command line or `--help` alone is the `help` command.
 */
export function parseCommandLine(argv: string[]): ParsedCommand {
  const dashdash = argv.indexOf('--');
  const head = dashdash === -1 ? argv : argv.slice(0, dashdash);
  const rest = dashdash === -1 ? [] : argv.slice(dashdash + 1);
  const words: number[] = [];
  for (let i = 0; i < head.length && words.length < 2; i++) {
    const a = head[i]!;
    if (a.startsWith('-')) {
      if (GLOBAL_VALUE_OPTIONS.has(a)) i++;
      continue;
    }
    if (words.length === 1 && !GROUPS.has(head[words[0]!]!)) break;
    words.push(i);
  }
  const command = words.map((i) => head[i]).join(' ') || 'help';
  const spec = COMMANDS[command];
  if (!spec) {
    if (GROUPS.has(command)) throw new UsageError(`${command}: missing subcommand`);
    throw new UsageError(`unknown command: ${command}`);
  }
  const remaining = head.filter((_, i) => !words.includes(i));
  if (spec.delegate) return { command, values: {}, positionals: [], rest, argv: dashdash === -1 ? remaining : [...remaining, '--', ...rest] };
  if (rest.length > 0 && !spec.rest) throw new UsageError(`${command} takes no arguments after --`);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: remaining, options: { ...GLOBAL, ...spec.options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    // parseArgs messages are clear but long; keep the first sentence.
    throw new UsageError(`${command}: ${(e as Error).message.split('. ')[0]}`);
  }
  const [min, max] = spec.positionals;
  if (parsed.positionals.length < min) throw new UsageError(`${command}: missing argument`);
  if (parsed.positionals.length > max) throw new UsageError(`${command}: unexpected argument ${parsed.positionals[max]}`);
  if (parsed.values.help) return { command: 'help', values: {}, positionals: [command], rest: [], argv: remaining };
  if (spec.rest && rest.length === 0) throw new UsageError(`${command}: give the command to run after --`);
  return { command, values: parsed.values, positionals: parsed.positionals, rest, argv: remaining };
}

/** A string option that must be present; UsageError naming it otherwise. */
export function requireOption(p: ParsedCommand, name: string): string {
  const v = p.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${p.command}: --${name} is required`);
  return v;
}

/** A TCP port option (0 picks a free port), with its default. */
export function portOption(p: ParsedCommand, name: string, fallback: number): number {
  const v = p.values[name];
  if (v === undefined) return fallback;
  const n = Number(v);
  if (typeof v !== 'string' || !/^\d+$/.test(v) || n > 65535) throw new UsageError(`${p.command}: --${name} must be a port number (0-65535)`);
  return n;
}

/** A comma-separated list option (purposes, roles, rule ids); undefined when absent. */
export function listOption(p: ParsedCommand, name: string): string[] | undefined {
  const v = p.values[name];
  if (v === undefined) return undefined;
  const items = String(v).split(',').map((x) => x.trim()).filter(Boolean);
  if (items.length === 0) throw new UsageError(`${p.command}: --${name} needs at least one value`);
  return items;
}

/** A positive integer option (invocation counts). */
export function countOption(p: ParsedCommand, name: string): number {
  const v = requireOption(p, name);
  if (!/^[1-9]\d{0,9}$/.test(v)) throw new UsageError(`${p.command}: --${name} must be a positive integer`);
  return Number(v);
}

/** The global settings, each from its option, then its environment variable, then its default. */
export function globalSettings(p: ParsedCommand, env: CliIo['env']): { serviceUrl: string; keyFile: string; audience: string } {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    serviceUrl: str(p.values.service) ?? str(env.TDS_URL) ?? 'http://localhost:8080',
    keyFile: str(p.values.key) ?? str(env.TDS_KEY) ?? './tds-key.json',
    audience: str(p.values.audience) ?? str(env.TDS_AUDIENCE) ?? 'tds',
  };
}

/**
 * Arguments for a delegated command with the global settings filled in where
 * the user gave none, so TDS_URL / TDS_KEY / TDS_AUDIENCE work for every
 * command, not only the ones parsed here. `--bundle` verification is offline:
 * it gets no service or key.
 */
export function withGlobalDefaults(argv: string[], settings: { serviceUrl: string; keyFile: string; audience: string }): string[] {
  const before = argv.indexOf('--') === -1 ? argv : argv.slice(0, argv.indexOf('--'));
  const has = (name: string) => before.some((a) => a === `--${name}` || a.startsWith(`--${name}=`));
  if (has('bundle')) return argv;
  const extra: string[] = [];
  if (!has('service')) extra.push('--service', settings.serviceUrl);
  if (!has('key')) extra.push('--key', settings.keyFile);
  if (!has('audience')) extra.push('--audience', settings.audience);
  return [...extra, ...argv];
}

/** The usage text. */
export const USAGE = `usage: tds [--service URL] [--key FILE] [--audience AUD] <command> [options]

Global options (or environment variables):
  --service URL      the tds service (TDS_URL, default http://localhost:8080)
  --key FILE         your credentials file {id, kid, privateJwk} (TDS_KEY, default ./tds-key.json)
  --audience AUD     the service's audience (TDS_AUDIENCE, default tds)

Commands:
  keygen [--out FILE]                         create a new Ed25519 key file (mode 0600)
  register --name N --roles provider,consumer [--organization O] [--contact C]
                                              register the key file's key; stores the id in it
  approve <participantId>                     operator: activate a participant
  suspend <participantId>                     operator: suspend a participant
  dataset publish --title T --field F --file PATH --url URL [--kind raw|insight] [--description D]
                  [--media-type M] [--license L]
                                              hash the file and publish it (provider; insight: consumer)
  offer create <datasetId> --purposes CODE,.. --max-invocations N [--valid-from T] [--valid-until T] [--rules ID,..]
                                              offer a dataset for these purposes
  contract propose --offer ID --purposes CODE,.. --max-invocations N [--valid-from T] [--valid-until T]
                                              consumer: propose a contract from an offer
  contract sign <contractId> [--yes]          check, show and sign a contract with your key
  contract verify <contractId|file.json> [--keys keys.json] [--save file.json]
                                              re-verify both signatures locally
  standing --field F [--kind raw|insight] [--json]
                                              your reciprocity standing in a research field
  job run --contract ID --purpose CODE [--idempotency-key K] [--ca PEM] [--work-dir DIR] -- <command> [args...]
                                              get a release, download and check the dataset,
                                              run the command on it, report the result digest
  gateway --dir DIR --cert PEM --key PEM [--port 8443] [--host 0.0.0.0] [--provider ID] [--ca PEM]
                                              serve DIR to holders of valid release tokens
  verify --log-key KEY|@FILE [--state FILE]   auditor: verify the ledger online (chain, tree,
  verify --bundle DIR --log-key KEY|@FILE     signed checkpoint, consistency), or an export offline
  ledger export --out DIR                     auditor: export entries and the signed checkpoint
  help                                        this text`;
