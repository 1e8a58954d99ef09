/**
 * `tds witness` (run a C2SP tlog-witness for the ledger in the foreground
 * until SIGINT/SIGTERM) and `tds witness vkey` (print its verifier key). The
 * witness key is a `tds keygen` file; it needs no participant identity and
 * never talks to the service: the service submits to it.
 */
import { publicKeyOf, secretKeyFromJwk } from '../crypto/ed25519.js';
import { cosignerVerifierKey } from '../ledger/cosignature.js';
import { startWitness } from '../witness/witness.server.js';
import { readCredentials } from '../client/credentials.js';
import { UsageError, portOption, requireOption, stringOption, type CommandSpec, type ParsedCommand } from './cli-args.js';
import { logKeysOption } from './trust-options.js';

async function witnessKey(p: ParsedCommand): Promise<{ name: string; secretKey: Uint8Array; vkey: string }> {
  const name = requireOption(p, 'name');
  const keyFile = requireOption(p, 'key');
  let secretKey: Uint8Array;
  try {
    secretKey = secretKeyFromJwk((await readCredentials(keyFile)).privateJwk);
  } catch (e) {
    throw new UsageError(`${p.command}: ${(e as Error).message}`);
  }
  let vkey: string;
  try {
    vkey = cosignerVerifierKey(name, publicKeyOf(secretKey));
  } catch (e) {
    throw new UsageError(`${p.command}: --name: ${(e as Error).message}`);
  }
  return { name, secretKey, vkey };
}

function waitForSignal(): Promise<void> {
  return new Promise((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
}

/** `tds witness`. */
export const witnessCommand: CommandSpec = {
  name: 'witness',
  synopsis: '--name NAME --key FILE --state DIR --log-key VKEY|@FILE [--port 8090] [--host 127.0.0.1]',
  summary: 'run a C2SP witness that cosigns the ledger\'s checkpoints (prints its verifier key)',
  options: { name: { type: 'string' }, state: { type: 'string' }, 'log-key': { type: 'string', multiple: true }, port: { type: 'string' }, host: { type: 'string' } },
  run: async ({ p, io }) => {
    const { name, secretKey, vkey } = await witnessKey(p);
    const state = requireOption(p, 'state');
    const logKeys = logKeysOption(p).map((k) => k.text);
    let w;
    try {
      w = await startWitness({ name, secretKey, logKeys, stateDir: state, port: portOption(p, 'port', 8090), host: stringOption(p, 'host'), log: (line) => io.err(line) });
    } catch (e) {
      io.err(`tds: witness: ${(e as Error).message}`);
      return 1;
    }
    // The verifier key on stdout (one line, for scripts); where it listens on stderr.
    io.out(vkey);
    io.err(`witness ${name} listening on ${w.url} (Ctrl-C to stop)`);
    await waitForSignal();
    await w.close();
    return 0;
  },
};

/** `tds witness vkey`. */
export const witnessVkeyCommand: CommandSpec = {
  name: 'witness vkey',
  synopsis: '--name NAME --key FILE',
  summary: 'print the witness\'s verifier key NAME+<key id>+<base64(0x04 || key)>',
  options: { name: { type: 'string' } },
  run: async ({ p, io }) => {
    io.out((await witnessKey(p)).vkey);
    return 0;
  },
};
