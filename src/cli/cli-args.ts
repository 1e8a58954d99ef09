/**
 * Argument parsing of the `tds` command, kept pure so that every usage error
 * is unit-tested without a service: find the command words in the command
 * table, then let node:util parseArgs check that command's options strictly.
 * The table (commands.ts) is passed in, so this module knows no command.
 */
import { parseArgs, type ParseArgsConfig } from 'node:util';
import type { TdsClient } from '../client/tds-client.js';

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
  /** Progress on stderr, overwriting one line; only given when stderr is a terminal. */
  progress?(line: string): void;
}

/** A bad command line: the dispatcher prints the message and the usage to stderr and exits 2. */
export class UsageError extends Error {
  override readonly name = 'UsageError';
}

/** The options of one command, in node:util parseArgs form. */
export type Options = NonNullable<ParseArgsConfig['options']>;

/** The settings every command shares: option, then environment variable, then default. */
export interface GlobalSettings {
  serviceUrl: string;
  keyFile: string;
  audience: string;
  /** A PEM file of extra CA certificate(s) (or a self-signed certificate) to trust for the service's HTTPS. */
  caFile?: string;
  /** Machine-readable output (`--json`) instead of text for people. */
  json: boolean;
}

/** What a command's `run` receives. */
export interface CommandContext {
  p: ParsedCommand;
  io: CliIo;
  settings: GlobalSettings;
  /** A client of the service signing with the key file (--key / TDS_KEY); loaded on first use. */
  client(): Promise<TdsClient>;
}

/**
 * One `tds` command, declared once: its words, options, usage line and code.
 * The parser, the usage text and the dispatcher all read this declaration.
 */
export interface CommandSpec {
  /** The command words, e.g. `contract sign`. */
  name: string;
  /** Arguments and options as shown in the usage, e.g. `<contractId> [--yes]`. */
  synopsis: string;
  /** One line saying what it does. */
  summary: string;
  options?: Options;
  /** Least and most positional arguments (default none). */
  positionals?: [min: number, max: number];
  /** Takes the words after `--` as a command to run ('optional': the command may be left out). */
  rest?: boolean | 'optional';
  run(ctx: CommandContext): Promise<number>;
}

// --key means the credentials file everywhere except `gateway`, where it is the TLS key (like openssl and nginx).
const GLOBAL: Options = {
  service: { type: 'string' },
  key: { type: 'string' },
  audience: { type: 'string' },
  ca: { type: 'string' },
  json: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
};
const GLOBAL_VALUE_OPTIONS = new Set(['--service', '--key', '--audience', '--ca']);

/** A parsed command line. */
export interface ParsedCommand {
  /** The command words, e.g. `contract sign`. */
  command: string;
  values: Record<string, string | boolean | undefined>;
  positionals: string[];
  /** Words after `--` (job run). */
  rest: string[];
}

/**
 * Parse `argv` (without node and script) against the command table. Throws
 * UsageError for an unknown command, an unknown option, a missing value or a
 * wrong number of arguments. An empty command line or `--help` alone is `help`.
 */
export function parseCommandLine(argv: string[], commands: readonly CommandSpec[]): ParsedCommand {
  const byName = new Map(commands.map((c) => [c.name, c]));
  const groups = new Set(commands.filter((c) => c.name.includes(' ')).map((c) => c.name.split(' ')[0]!));
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
    const first = head[words[0]!]!;
    // `tds witness --name N` is a command and a group (`witness vkey`): a second word only when it names a subcommand.
    if (words.length === 1 && (!groups.has(first) || (byName.has(first) && !byName.has(`${first} ${a}`)))) break;
    words.push(i);
  }
  const command = words.map((i) => head[i]).join(' ') || 'help';
  const spec = byName.get(command);
  if (!spec) {
    // `tds dataset --help` is `tds help dataset`: the usage of every command of the group.
    if (groups.has(command) && head.some((a) => a === '--help' || a === '-h')) return { command: 'help', values: {}, positionals: [command], rest: [] };
    if (groups.has(command)) throw new UsageError(`${command}: missing subcommand (one of: ${commands.filter((c) => c.name.startsWith(`${command} `)).map((c) => c.name.split(' ')[1]).join(', ')})`);
    throw new UsageError(`unknown command: ${command}`);
  }
  const remaining = head.filter((_, i) => !words.includes(i));
  if (rest.length > 0 && !spec.rest) throw new UsageError(`${command} takes no arguments after --`);
  let parsed: { values: Record<string, string | boolean | undefined>; positionals: string[] };
  try {
    parsed = parseArgs({ args: remaining, options: { ...GLOBAL, ...spec.options }, allowPositionals: true, strict: true }) as typeof parsed;
  } catch (e) {
    // parseArgs messages are clear but long; keep the first sentence.
    throw new UsageError(`${command}: ${(e as Error).message.split('. ')[0]}`);
  }
  if (parsed.values.help) return { command: 'help', values: {}, positionals: [command], rest: [] };
  const [min, max] = spec.positionals ?? [0, 0];
  if (parsed.positionals.length < min) throw new UsageError(`${command}: missing argument`);
  if (parsed.positionals.length > max) throw new UsageError(`${command}: unexpected argument ${parsed.positionals[max]}`);
  if (spec.rest === true && rest.length === 0) throw new UsageError(`${command}: give the command to run after --`);
  return { command, values: parsed.values, positionals: parsed.positionals, rest };
}

/** A string option that must be present; UsageError naming it otherwise. */
export function requireOption(p: ParsedCommand, name: string): string {
  const v = p.values[name];
  if (typeof v !== 'string' || v === '') throw new UsageError(`${p.command}: --${name} is required`);
  return v;
}

/** A string option, or undefined when absent. */
export function stringOption(p: ParsedCommand, name: string): string | undefined {
  const v = p.values[name];
  return typeof v === 'string' ? v : undefined;
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

/** A comma-separated list option that must be present. */
export function requireList(p: ParsedCommand, name: string): string[] {
  const list = listOption(p, name);
  if (!list) throw new UsageError(`${p.command}: --${name} is required`);
  return list;
}

/** A positive integer option (invocation counts). */
export function countOption(p: ParsedCommand, name: string): number {
  const v = requireOption(p, name);
  if (!/^[1-9]\d{0,9}$/.test(v)) throw new UsageError(`${p.command}: --${name} must be a positive integer`);
  return Number(v);
}

/** An option limited to a few values; undefined when absent. */
export function choiceOption<T extends string>(p: ParsedCommand, name: string, choices: readonly T[]): T | undefined {
  const v = p.values[name];
  if (v === undefined) return undefined;
  if (typeof v !== 'string' || !(choices as readonly string[]).includes(v)) throw new UsageError(`${p.command}: --${name} must be ${choices.join(' or ')}`);
  return v as T;
}

/** The global settings, each from its option, then its environment variable, then its default. */
export function globalSettings(p: ParsedCommand, env: CliIo['env']): GlobalSettings {
  const str = (v: unknown) => (typeof v === 'string' && v !== '' ? v : undefined);
  return {
    serviceUrl: str(p.values.service) ?? str(env.TDS_URL) ?? 'http://localhost:8080',
    keyFile: str(p.values.key) ?? str(env.TDS_KEY) ?? './tds-key.json',
    audience: str(p.values.audience) ?? str(env.TDS_AUDIENCE) ?? 'tds',
    ...(str(p.values.ca) ?? str(env.TDS_CA) ? { caFile: (str(p.values.ca) ?? str(env.TDS_CA))! } : {}),
    json: p.values.json === true,
  };
}

const HEADER = `usage: tds [--service URL] [--key FILE] [--audience AUD] [--ca FILE] [--json] <command> [options]

Global options (or environment variables):
  --service URL      the tds service (TDS_URL, default http://localhost:8080)
  --key FILE         your credentials file {id, kid, privateJwk} (TDS_KEY, default ./tds-key.json)
  --audience AUD     the service's audience (TDS_AUDIENCE, default tds)
  --ca FILE          also trust this CA or self-signed certificate (PEM) for the service (TDS_CA)
  --json             machine-readable output for scripts (where a command prints data)

Exit status: 0 done, 1 failed or a violation found, 2 bad command line, 3 a job's data did not match its digest.

Commands:`;

/** One command's usage: its line and what it does. */
function commandUsage(c: CommandSpec): string {
  return `usage: tds ${`${c.name} ${c.synopsis}`.trimEnd()}\n  ${c.summary}`;
}

/**
 * The usage text, generated from the command table: one command's usage when
 * `only` names it, every command of a group when `only` is a group word
 * (`dataset`: dataset publish, dataset withdraw, ...; a command that is also
 * a group, `witness`, first), the whole text otherwise.
 */
export function usageText(commands: readonly CommandSpec[], only?: string): string {
  if (only) {
    const one = commands.find((c) => c.name === only);
    const group = commands.filter((c) => c.name.startsWith(`${only} `));
    if (one || group.length > 0) return [...(one ? [one] : []), ...group].map(commandUsage).join('\n\n');
  }
  const lines = [HEADER];
  for (const c of commands) {
    const head = `  ${c.name} ${c.synopsis}`.trimEnd();
    if (head.length < 46) lines.push(`${head.padEnd(46)}${c.summary}`);
    else lines.push(head, `${''.padEnd(46)}${c.summary}`);
  }
  return lines.join('\n');
}
