#!/usr/bin/env node
/**
 * The `tds` command: parse the command line against the command table
 * (commands.ts), run the command, and turn every error into one line
 * (`CODE: detail` for API problems), never a stack trace. Usage errors exit
 * 2, failures 1; a closed stdout (`tds … | head -1`) ends the program quietly.
 */
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { TdsClient } from '../client/tds-client.js';
import { errorLine } from '../client/problem-message.js';
import { UsageError, globalSettings, parseCommandLine, type CliIo, type CommandContext, type GlobalSettings } from './cli-args.js';
import { COMMANDS, usageFor } from './commands.js';
import { readCredentials } from '../client/credentials.js';

/** One line for any error: the problem's code and detail for API errors, the message otherwise. */
export const formatError = errorLine;

/** The --ca / TDS_CA certificate(s) as PEM text; an unreadable file is named. */
function caOf(settings: GlobalSettings): { ca?: string } {
  if (!settings.caFile) return {};
  try {
    return { ca: fs.readFileSync(settings.caFile, 'utf8') };
  } catch (e) {
    throw new Error(`cannot read the CA file ${settings.caFile} (--ca / TDS_CA): ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`, { cause: e });
  }
}

/** The real terminal. */
export function processIo(): CliIo {
  const progressOnTty = process.stderr.isTTY;
  let progressShown = false;
  const clearProgress = () => {
    if (progressShown) process.stderr.write('\r\x1b[K');
    progressShown = false;
  };
  return {
    out: (line) => {
      clearProgress();
      process.stdout.write(`${line}\n`);
    },
    err: (line) => {
      clearProgress();
      process.stderr.write(`${line}\n`);
    },
    isTTY: Boolean(process.stdin.isTTY && process.stdout.isTTY),
    prompt: async (question) => {
      const rl = readline.createInterface({ input: process.stdin, output: process.stdout });
      try {
        return await rl.question(question);
      } finally {
        rl.close();
      }
    },
    env: process.env,
    ...(progressOnTty
      ? {
          progress: (line: string) => {
            process.stderr.write(`\r\x1b[K${line}`);
            progressShown = true;
          },
        }
      : {}),
  };
}

/** Run one command line; resolves to the exit status (0 ok, 1 failure, 2 usage, 3 integrity failure of a job's data). */
export async function runTds(argv: string[], io: CliIo): Promise<number> {
  let command: string | undefined;
  try {
    const p = parseCommandLine(argv, COMMANDS);
    command = p.command;
    const spec = COMMANDS.find((c) => c.name === p.command)!;
    const settings = globalSettings(p, io.env);
    let client: Promise<TdsClient> | undefined;
    const ctx: CommandContext = {
      p,
      io,
      settings,
      client: () => (client ??= readCredentials(settings.keyFile, io).then((credentials) => new TdsClient({ baseUrl: settings.serviceUrl, audience: settings.audience, credentials, ...caOf(settings) }))),
    };
    return await spec.run(ctx);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tds: ${e.message}`);
      io.err(usageFor(command && command !== 'help' ? command : undefined));
      return 2;
    }
    io.err(`tds: ${errorLine(e)}`);
    return 1;
  }
}

// Run only when executed (also through npm's bin symlink), so tests can import runTds.
function invokedDirectly(): boolean {
  try {
    return process.argv[1] !== undefined && fs.realpathSync(process.argv[1]) === fileURLToPath(import.meta.url);
  } catch {
    return false;
  }
}

if (invokedDirectly()) {
  // `tds … | head -1`: the reader went away; that is the reader's choice, not an error.
  for (const stream of [process.stdout, process.stderr]) {
    stream.on('error', (e: NodeJS.ErrnoException) => {
      if (e.code === 'EPIPE') process.exit(process.exitCode ?? 0);
      throw e;
    });
  }
  // Under `npm run tds`, npm runs in the repository root: resolve paths against the caller's folder.
  if (process.env.npm_lifecycle_event === 'tds' && process.env.INIT_CWD) process.chdir(process.env.INIT_CWD);
  void runTds(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
