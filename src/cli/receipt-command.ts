/**
 * `tds receipt verify FILE`: checks a release receipt (c2sp.org/tlog-proof@v1)
 * offline, with nothing but the pinned log key and the witnesses' keys: the
 * log's signature, the witness quorum, the entry bytes and their inclusion
 * under the signed root. Also the helper that fetches and saves a receipt
 * next to a job's result.
 */
import fs from 'node:fs';
import path from 'node:path';
import type { TdsClient } from '../client/tds-client.js';
import { verifyReceipt } from '../ledger/tlog-proof.js';
import type { CommandSpec } from './cli-args.js';
import { TRUST_OPTIONS, requireLogKey, witnessOptions } from './trust-options.js';

/** One line describing a verified release entry. */
function describe(entry: Record<string, unknown>): string {
  const s = (entry.subjects ?? {}) as Record<string, string>;
  const d = (entry.data ?? {}) as Record<string, unknown>;
  const purpose = typeof d.purpose === 'string' ? ` for purpose ${d.purpose}` : '';
  return `${String(entry.kind)} at ${String(entry.at)}: dataset ${s.dataset ?? '?'} released to job ${s.job ?? '?'} (consumer ${s.consumer ?? '?'}, provider ${s.provider ?? '?'})${purpose}`;
}

/** `tds receipt verify`. */
export const receiptVerify: CommandSpec = {
  name: 'receipt verify',
  synopsis: 'FILE --log-key KEY|@FILE [--witness VKEY|@FILE ...] [--quorum N]',
  summary: 'check a job\'s release receipt offline: log signature, witness quorum, entry inclusion',
  options: TRUST_OPTIONS,
  positionals: [1, 1],
  run: async ({ p, io }) => {
    const logKey = requireLogKey(p);
    const { witnesses, quorum } = witnessOptions(p);
    const file = p.positionals[0]!;
    let text: string;
    try {
      text = fs.readFileSync(file, 'utf8');
    } catch (e) {
      io.out(`FAILED: cannot read ${file}: ${(e as NodeJS.ErrnoException).code ?? (e as Error).message}`);
      return 1;
    }
    try {
      const v = verifyReceipt(text, logKey.key, witnesses, quorum);
      io.out(`OK: entry ${v.index} is in checkpoint ${v.checkpoint.origin} size ${v.checkpoint.size}, signed by the log` + (witnesses.length > 0 ? ` and cosigned by ${v.cosigned.map((c) => c.name).join(', ') || 'no witness'} (quorum ${quorum})` : ''));
      io.out(`  ${describe(v.entry)}`);
      return 0;
    } catch (e) {
      io.out(`FAILED: ${(e as Error).message}`);
      return 1;
    }
  },
};

/**
 * Fetches a job's receipt and writes it to `file` (mode 0644: it is evidence,
 * not a secret), retrying while the release is not yet under a checkpoint.
 * Resolves to the path, or throws after about 15 s.
 */
export async function saveReceipt(client: TdsClient, jobId: string, file: string): Promise<string> {
  const deadline = Date.now() + 15_000;
  for (;;) {
    try {
      const text = await client.getText(`/v1/jobs/${jobId}/receipt`);
      fs.writeFileSync(file, text);
      return file;
    } catch (e) {
      if ((e as { code?: string }).code !== 'RECEIPT_PENDING') throw e;
      if (Date.now() > deadline) throw e;
      await new Promise((r) => setTimeout(r, 500));
    }
  }
}

/** Saves the receipt of a job as `<dir>/<jobId>.tlog-proof`, printing where; a failure is a warning, never the command's failure. */
export async function saveReceiptBeside(client: TdsClient, jobId: string, dir: string, io: { out(l: string): void; err(l: string): void }): Promise<void> {
  try {
    io.out(`receipt: ${await saveReceipt(client, jobId, path.join(dir, `${jobId}.tlog-proof`))} (check it with tds receipt verify)`);
  } catch (e) {
    io.err(`warning: could not save the release receipt of job ${jobId}: ${(e as Error).message}`);
  }
}
