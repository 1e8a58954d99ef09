/**
 * `tds witness` as a separate OS process (the built dist/src/cli/tds.js):
 * started with a key file and a state directory, its verifier key read from
 * its stdout, stopped with SIGTERM or killed with SIGKILL.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { freePort } from '../../src/db/embedded-postgres.js';
import { generateKeyPair, privateJwkOf, thumbprintOf } from '../../src/crypto/ed25519.js';

/** A running witness process. */
export interface WitnessProcess {
  url: string;
  vkey: string;
  port: number;
  child: ChildProcess;
  output: () => string;
}

/** Writes a `tds keygen`-style key file. */
export async function witnessKeyFile(file: string): Promise<string> {
  const privateJwk = privateJwkOf(generateKeyPair().secretKey);
  fs.writeFileSync(file, JSON.stringify({ kid: await thumbprintOf(privateJwk), privateJwk }), { mode: 0o600 });
  return file;
}

/** Starts `tds witness` and resolves when it prints its verifier key and answers HTTP. */
export async function startWitnessProcess(opts: { name: string; keyFile: string; stateDir: string; logKey: string; port?: number }): Promise<WitnessProcess> {
  const port = opts.port ?? (await freePort());
  let out = '';
  const child = spawn(process.execPath, [path.resolve('dist/src/cli/tds.js'), 'witness', '--name', opts.name, '--key', opts.keyFile, '--state', opts.stateDir, '--log-key', opts.logKey, '--port', String(port)], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  child.stdout!.on('data', (d) => (out += String(d)));
  child.stderr!.on('data', (d) => (out += String(d)));
  const url = `http://127.0.0.1:${port}`;
  const deadline = Date.now() + 30_000;
  for (;;) {
    if (child.exitCode !== null) throw new Error(`witness exited (${child.exitCode}): ${out}`);
    const vkey = out.split('\n').find((l) => l.startsWith(`${opts.name}+`));
    if (vkey) {
      try {
        await fetch(`${url}/nothing`);
        return { url, vkey, port, child, output: () => out };
      } catch {
        // not listening yet
      }
    }
    if (Date.now() > deadline) throw new Error(`witness did not start: ${out}`);
    await new Promise((r) => setTimeout(r, 50));
  }
}

/** Stops a witness process (SIGKILL: a crash); resolves when it has exited. */
export async function stopWitnessProcess(w: WitnessProcess, signal: NodeJS.Signals = 'SIGTERM'): Promise<void> {
  if (w.child.exitCode !== null || w.child.signalCode !== null) return;
  const exited = new Promise((r) => w.child.once('exit', r));
  w.child.kill(signal);
  await exited;
}
