// Runs INSIDE the sandbox in the sandbox tests: tries what an escaping
// analysis would try and prints one JSON line saying what happened. Plain
// JavaScript, so the sandbox needs nothing but node to run it.
import fs from 'node:fs';
import net from 'node:net';
import os from 'node:os';

const [mode, ...args] = process.argv.slice(2);

function tryConnect(port) {
  return new Promise((resolve) => {
    const s = net.connect({ host: '127.0.0.1', port: Number(port) });
    const t = setTimeout(() => { s.destroy(); resolve('timeout'); }, 3000);
    s.on('connect', () => { clearTimeout(t); s.destroy(); resolve('connected'); });
    s.on('error', (e) => { clearTimeout(t); resolve(e.code ?? 'error'); });
  });
}

function tryRead(file) {
  try {
    fs.readFileSync(file);
    return 'read';
  } catch (e) {
    return e.code ?? 'error';
  }
}

async function main() {
  switch (mode) {
    case 'identity': {
      const status = fs.readFileSync('/proc/self/status', 'utf8');
      const capEff = /CapEff:\s*(\S+)/.exec(status)?.[1];
      return { uid: process.getuid(), gid: process.getgid(), capEff, interfaces: Object.keys(os.networkInterfaces()), env: Object.keys(process.env).sort(), root: fs.readdirSync('/').sort(), pids: fs.readdirSync('/proc').filter((n) => /^\d+$/.test(n)) };
    }
    case 'net': {
      const out = {};
      for (const p of args) out[p] = await tryConnect(p);
      return out;
    }
    case 'read': {
      const out = {};
      for (const f of args) out[f] = tryRead(f);
      return out;
    }
    case 'write': {
      try {
        fs.appendFileSync(args[0], 'tampered\n');
        return { write: 'written' };
      } catch (e) {
        return { write: e.code ?? 'error' };
      }
    }
    case 'memory': {
      const keep = [];
      for (;;) keep.push(Buffer.alloc(64 * 1024 * 1024, 1));
    }
    case 'spin': {
      for (;;) { /* burn CPU until a limit stops us */ }
    }
    case 'sleep': {
      await new Promise((r) => setTimeout(r, 1e9));
      return {};
    }
    default:
      return { error: `unknown mode ${mode}` };
  }
}

main().then((r) => process.stdout.write(`${JSON.stringify(r)}\n`));
