/**
 * The witness as a separate process, killed with SIGKILL between requests
 * and in the middle of a stream of them: after each restart its state is the
 * last checkpoint it answered 200 for (or the one in flight, persisted but
 * not yet answered), never older, so it can never be made to cosign a
 * rolled-back or forked history.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { TestLog } from '../helpers/tlog.js';
import { startWitnessProcess, stopWitnessProcess, witnessKeyFile, type WitnessProcess } from './witness-process.js';

async function post(w: WitnessProcess, body: string): Promise<{ status: number; text: string }> {
  const res = await fetch(`${w.url}/add-checkpoint`, { method: 'POST', body });
  return { status: res.status, text: await res.text() };
}

describe('tds witness under kill -9', () => {
  it('keeps every cosigned size across crashes', async () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tds-witness-crash-'));
    const keyFile = await witnessKeyFile(path.join(dir, 'witness-key.json'));
    const stateDir = path.join(dir, 'state');
    const log = new TestLog('tds.crash/ledger').grow(400);
    const opts = { name: 'witness.crash/w', keyFile, stateDir, logKey: log.vkey };
    let w = await startWitnessProcess(opts);

    // Between requests: cosign 3, kill, restart: it knows 3.
    expect((await post(w, log.request(0, 3))).status).toBe(200);
    await stopWitnessProcess(w, 'SIGKILL');
    w = await startWitnessProcess({ ...opts, port: w.port });
    expect(await post(w, log.request(0, 10))).toEqual({ status: 409, text: '3\n' });

    // During a stream of extensions, ten times.
    let acked = 3;
    for (let round = 0; round < 10; round++) {
      let stop = false;
      let inFlight = acked;
      const stream = (async () => {
        while (!stop && acked < 390) {
          inFlight = acked + 1;
          try {
            const r = await post(w, log.request(acked, inFlight));
            if (r.status !== 200) throw new Error(`unexpected ${r.status} ${r.text}`);
            acked = inFlight;
          } catch (err) {
            if ((err as Error).message.startsWith('unexpected')) throw err;
            return; // connection reset by the kill
          }
        }
      })();
      await new Promise((r) => setTimeout(r, 50 + Math.random() * 150));
      await stopWitnessProcess(w, 'SIGKILL');
      stop = true;
      await stream;
      w = await startWitnessProcess({ ...opts, port: w.port });
      const probe = await post(w, log.request(0, 400));
      expect(probe.status).toBe(409);
      const persisted = Number(probe.text.trim());
      expect([acked, inFlight]).toContain(persisted);
      acked = persisted;
    }
    expect(acked).toBeGreaterThan(3);
    // And the true history still extends from where it stands.
    expect((await post(w, log.request(acked, 400))).status).toBe(200);
    await stopWitnessProcess(w);
    fs.rmSync(dir, { recursive: true, force: true });
  });
});
