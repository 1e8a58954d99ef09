#!/usr/bin/env node
/**
 * The `tds` command: one dispatcher over the participant, contract, job,
 * gateway and auditor commands. Errors leave as one line (`CODE: detail` for
 * API problems), never a stack trace; usage errors exit 2, failures 1.
 */
import fs from 'node:fs';
import readline from 'node:readline/promises';
import { fileURLToPath } from 'node:url';
import { TdsApiError, TdsClient } from '../client/tds-client.js';
import { USAGE, UsageError, globalSettings, parseCommandLine, portOption, requireOption, withGlobalDefaults, listOption, countOption, type CliIo, type ParsedCommand } from './cli-args.js';
import { keygenCommand, loadCredentials, registerCommand, standingCommand, statusCommand } from './participant-commands.js';
import { signContractCommand, verifyContractCommand } from './contract-commands.js';
import { offerCommand, proposeCommand, publishCommand } from './catalog-commands.js';
import { startGateway } from './gateway.js';
import { runJob } from './job-runner.js';
import { runLedgerExport, runVerify } from './verify-command.js';

/** One line for any error: the problem's code and detail for API errors, the message otherwise. */
export function formatError(e: unknown): string {
  if (e instanceof TdsApiError) return `${e.code}: ${e.detail}`;
  if (e instanceof Error) return e.message.split('\n')[0]!;
  return String(e);
}

/** The real terminal. */
export function processIo(): CliIo {
  return {
    out: (line) => void process.stdout.write(`${line}\n`),
    err: (line) => void process.stderr.write(`${line}\n`),
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
  };
}

async function clientFor(p: ParsedCommand, io: CliIo): Promise<TdsClient> {
  const s = globalSettings(p, io.env);
  return new TdsClient({ baseUrl: s.serviceUrl, audience: s.audience, credentials: await loadCredentials(s.keyFile, io) });
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

function requireList(p: ParsedCommand, name: string): string[] {
  const list = listOption(p, name);
  if (!list) throw new UsageError(`${p.command}: --${name} is required`);
  return list;
}

function windowOf(p: ParsedCommand): { validFrom?: string; validUntil?: string } {
  return {
    ...(typeof p.values['valid-from'] === 'string' ? { validFrom: p.values['valid-from'] } : {}),
    ...(typeof p.values['valid-until'] === 'string' ? { validUntil: p.values['valid-until'] } : {}),
  };
}

async function dispatch(p: ParsedCommand, io: CliIo): Promise<number> {
  const s = globalSettings(p, io.env);
  switch (p.command) {
    case 'help':
      io.out(USAGE);
      return 0;
    case 'keygen':
      return keygenCommand(typeof p.values.out === 'string' ? p.values.out : s.keyFile, io);
    case 'register': {
      const roles = requireList(p, 'roles');
      const input = { name: requireOption(p, 'name'), roles, ...(p.values.organization ? { organization: String(p.values.organization) } : {}), ...(p.values.contact ? { contact: String(p.values.contact) } : {}) };
      return registerCommand(await clientFor(p, io), s.keyFile, input, io);
    }
    case 'approve':
    case 'suspend':
      return statusCommand(await clientFor(p, io), p.command, p.positionals[0]!, io);
    case 'dataset publish': {
      const kind = p.values.kind ?? 'raw';
      if (kind !== 'raw' && kind !== 'insight') throw new UsageError('dataset publish: --kind must be raw or insight');
      const input = {
        title: requireOption(p, 'title'), description: typeof p.values.description === 'string' ? p.values.description : '', researchField: requireOption(p, 'field'), kind,
        url: requireOption(p, 'url'), file: requireOption(p, 'file'), mediaType: p.values['media-type'] as string | undefined, license: p.values.license as string | undefined,
      } as const;
      return publishCommand(await clientFor(p, io), input, io);
    }
    case 'offer create': {
      const input = { purposes: requireList(p, 'purposes'), maxInvocations: countOption(p, 'max-invocations'), ...windowOf(p), ...(p.values.rules ? { reciprocityRuleIds: listOption(p, 'rules') } : {}) };
      return offerCommand(await clientFor(p, io), p.positionals[0]!, input, io);
    }
    case 'contract propose': {
      const input = { offerId: requireOption(p, 'offer'), purposes: requireList(p, 'purposes'), maxInvocations: countOption(p, 'max-invocations'), ...windowOf(p) };
      return proposeCommand(await clientFor(p, io), input, io);
    }
    case 'contract sign':
      return signContractCommand({ client: await clientFor(p, io), contractId: p.positionals[0]!, yes: p.values.yes === true, io });
    case 'contract verify': {
      const target = p.positionals[0]!;
      const client = target.endsWith('.json') || fs.existsSync(target) ? undefined : await clientFor(p, io);
      return verifyContractCommand({ target, keysFile: p.values.keys as string | undefined, save: p.values.save as string | undefined, client: client && (() => client), io });
    }
    case 'standing': {
      const kind = p.values.kind;
      if (kind !== undefined && kind !== 'raw' && kind !== 'insight') throw new UsageError('standing: --kind must be raw or insight');
      const field = requireOption(p, 'field');
      return standingCommand(await clientFor(p, io), field, kind, p.values.json === true, io);
    }
    case 'gateway': {
      // Here --key is the TLS private key; the gateway needs no participant credentials.
      const gw = await startGateway({
        dir: requireOption(p, 'dir'),
        cert: requireOption(p, 'cert'),
        key: requireOption(p, 'key'),
        serviceUrl: s.serviceUrl,
        port: portOption(p, 'port', 8443),
        host: typeof p.values.host === 'string' ? p.values.host : '0.0.0.0',
        providerId: p.values.provider as string | undefined,
        issuer: s.audience,
        ca: p.values.ca as string | undefined,
      });
      io.err(`gateway serving ${p.values.dir} on ${gw.url} (Ctrl-C to stop)`);
      await waitForSignal();
      await gw.close();
      return 0;
    }
    case 'job run': {
      const contractId = requireOption(p, 'contract');
      const purpose = requireOption(p, 'purpose');
      return runJob({
        client: await clientFor(p, io),
        contractId,
        purpose,
        command: p.rest,
        idempotencyKey: p.values['idempotency-key'] as string | undefined,
        ca: p.values.ca as string | undefined,
        workDir: p.values['work-dir'] as string | undefined,
        io,
      });
    }
    case 'verify':
      return runVerify(withGlobalDefaults(p.argv, s), io);
    case 'ledger export':
      return runLedgerExport(withGlobalDefaults(p.argv, s), io);
    default:
      throw new UsageError(`unknown command: ${p.command}`);
  }
}

/** Run one command line; resolves to the exit status (0 ok, 1 failure, 2 usage, 3 integrity failure of a job's data). */
export async function runTds(argv: string[], io: CliIo): Promise<number> {
  try {
    return await dispatch(parseCommandLine(argv), io);
  } catch (e) {
    if (e instanceof UsageError) {
      io.err(`tds: ${e.message}`);
      io.err(USAGE);
      return 2;
    }
    io.err(`tds: ${formatError(e)}`);
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
  void runTds(process.argv.slice(2), processIo()).then((code) => {
    process.exitCode = code;
  });
}
