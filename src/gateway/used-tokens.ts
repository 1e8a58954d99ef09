/**
 * The gateway's memory of release tokens already served, kept on disk so a
 * token stays single-use across gateway restarts. One append-only file of
 * `<jti> <exp>` lines in the gateway's state directory: a jti is written and
 * flushed to disk (fdatasync) before the first byte is served, and entries
 * whose token can no longer verify are dropped when the file is compacted at
 * start. Claims are synchronous in memory, so two concurrent requests with
 * one token cannot both pass.
 */
import fs from 'node:fs';
import path from 'node:path';

// Tokens expire; an entry is kept this long after exp (covers the verifier's clock tolerance).
const KEEP_AFTER_EXP_S = 60;
const JTI = /^[\x21-\x7e]{1,200}$/;

/** Durable set of used token ids. */
export class UsedTokens {
  private readonly used = new Map<string, number>();
  private readonly file: string;
  private fd: number;

  /** Open (creating) the store in stateDir; forgets expired entries. */
  constructor(stateDir: string, private readonly now: () => number = () => Date.now() / 1000) {
    fs.mkdirSync(stateDir, { recursive: true, mode: 0o700 });
    this.file = path.join(stateDir, 'used-release-tokens');
    if (fs.existsSync(this.file)) {
      for (const line of fs.readFileSync(this.file, 'utf8').split('\n')) {
        const [jti, exp] = line.split(' ');
        if (jti && JTI.test(jti) && Number(exp) + KEEP_AFTER_EXP_S > this.now()) this.used.set(jti, Number(exp));
      }
    }
    // Compact: rewrite only what is still relevant, atomically.
    const tmp = `${this.file}.tmp`;
    fs.writeFileSync(tmp, [...this.used].map(([j, e]) => `${j} ${e}\n`).join(''), { mode: 0o600 });
    fs.renameSync(tmp, this.file);
    this.fd = fs.openSync(this.file, 'a', 0o600);
  }

  /** True when this jti was already served. */
  has(jti: string): boolean {
    return this.used.has(jti);
  }

  /** Claim a jti (false when it was already claimed); durable before it resolves. */
  async claim(jti: string, exp: number): Promise<boolean> {
    if (!JTI.test(jti) || this.used.has(jti)) return false;
    this.used.set(jti, exp);
    try {
      const line = Buffer.from(`${jti} ${exp}\n`);
      await new Promise<void>((resolve, reject) => fs.write(this.fd, line, (e) => (e ? reject(e) : resolve())));
      await new Promise<void>((resolve, reject) => fs.fdatasync(this.fd, (e) => (e ? reject(e) : resolve())));
    } catch (e) {
      this.used.delete(jti);
      throw e;
    }
    return true;
  }

  /** Close the file. */
  close(): void {
    fs.closeSync(this.fd);
  }
}
