/**
 * `tds report`: the auditor's report, from a ledger it has verified first
 * (exactly as `tds verify` does: pinned log key, witnesses, consistency with
 * the last checkpoint; online with the auditor's key, or offline from a
 * `tds ledger export` bundle). The accounting is the pure audit-report module.
 * Exit 1 when the ledger does not verify or shows any violation, 0 otherwise.
 */
import { UsageError, stringOption, type CliIo, type CommandSpec } from './cli-args.js';
import { EXIT_FAILED, EXIT_OK, VERIFY_OPTIONS, verifyLedger } from './verify-command.js';
import { auditLedger, type AuditFilter, type AuditReport, type ContractAudit } from './audit-report.js';
import { defaultVocabulary } from '../agreements/purpose-match.js';
import type { LedgerEntry } from '../ledger/ledger-entry.js';

function timeOption(command: string, name: string, value: string | undefined): Date | undefined {
  if (value === undefined) return undefined;
  const t = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}(T[\d:.]+(Z|[+-]\d{2}:\d{2}))?$/.test(value) || Number.isNaN(t)) throw new UsageError(`${command}: --${name} must be an ISO 8601 date or time (e.g. 2026-11-01T00:00:00Z)`);
  return new Date(t);
}

const list = (xs: string[]) => (xs.length > 0 ? xs.join(', ') : 'none');

function printContract(c: ContractAudit, io: Pick<CliIo, 'out'>): void {
  io.out(`contract ${c.contractId} (${c.state})`);
  io.out(`  dataset ${c.datasetId ?? '?'}, provider ${c.providerId ?? '?'}, consumer ${c.consumerId ?? '?'}`);
  const total = c.releases.total === c.releases.inPeriod ? '' : ` (${c.releases.total} in the whole ledger)`;
  io.out(`  releases: ${c.releases.inPeriod} of at most ${c.maxInvocations ?? '?'}${total}`);
  io.out(`  purposes granted: ${list(c.purposesGranted)}; used: ${list(c.purposesUsed.map((u) => `${u.purpose} x${u.releases}${u.granted ? '' : ' (NOT GRANTED)'}`))}`);
  io.out(`  window: ${c.validFrom ?? '?'} .. ${c.validUntil ?? '?'}; releases outside it: ${c.violations.filter((v) => v.kind === 'outside-window').length}`);
  io.out(`  jobs never completed: ${c.jobsNeverCompleted.length}`);
  for (const j of c.jobsNeverCompleted) io.out(`    job ${j.jobId} (${j.outcome}${j.reason ? `: ${j.reason}` : ''}), released at ${j.at}, ledger index ${j.index}`);
  const denials = Object.entries(c.denials.byReason).sort(([a], [b]) => a.localeCompare(b)).map(([reason, n]) => `${reason} x${n}`);
  io.out(`  denials: ${list(denials)}${c.denials.notRecorded > 0 ? ` (+${c.denials.notRecorded} not recorded by the rate limit)` : ''}`);
}

function printReport(r: AuditReport, io: Pick<CliIo, 'out'>): void {
  for (const c of r.contracts) printContract(c, io);
  for (const v of r.violations) io.out(`VIOLATION ${v.kind}: contract ${v.contractId}, job ${v.jobId ?? '?'}, ledger index ${v.index}, at ${v.at}: ${v.detail}`);
  const releases = r.contracts.reduce((n, c) => n + c.releases.inPeriod, 0);
  io.out(r.ok
    ? `OK: no violations in ${r.contracts.length} contract(s), ${releases} release(s)`
    : `FAILED: ${r.violations.length} violation(s) in ${new Set(r.violations.map((v) => v.contractId)).size} contract(s)`);
}

/** `tds report`. */
export const reportCommand: CommandSpec = {
  name: 'report',
  synopsis: '--log-key KEY|@FILE [--dataset ID] [--contract ID] [--from ISO] [--to ISO] [--bundle DIR] [--witness VKEY|@FILE ...] [--quorum N] [--state FILE] [--json]',
  summary: 'auditor: per contract, releases against the limit, purposes, window, unfinished jobs and denials, from a verified ledger; exit 1 on any violation',
  options: { ...VERIFY_OPTIONS, dataset: { type: 'string' }, contract: { type: 'string' }, from: { type: 'string' }, to: { type: 'string' } },
  run: async (ctx) => {
    const { p, io, settings } = ctx;
    const filter: AuditFilter = {
      contractId: stringOption(p, 'contract'), datasetId: stringOption(p, 'dataset'),
      from: timeOption(p.command, 'from', stringOption(p, 'from')), to: timeOption(p.command, 'to', stringOption(p, 'to')),
    };
    if (filter.from && filter.to && filter.to <= filter.from) throw new UsageError(`${p.command}: --to must be after --from`);
    // With --json the verification lines go to stderr, so stdout is the report alone.
    const verifyIo = settings.json ? { ...io, out: io.err } : io;
    const verified = await verifyLedger({ ...ctx, io: verifyIo });
    if (verified.code !== EXIT_OK) {
      if (settings.json) io.out(JSON.stringify({ verified: false, ok: false }));
      return verified.code;
    }
    const report = auditLedger(verified.entries.map((e) => e.entry as LedgerEntry), filter, defaultVocabulary());
    if (settings.json) {
      io.out(JSON.stringify({ verified: true, checkpointSize: verified.size, filter, ...report }));
    } else {
      const period = filter.from || filter.to ? `${filter.from?.toISOString() ?? 'the start'} .. ${filter.to?.toISOString() ?? 'the checkpoint'}` : 'the whole ledger';
      io.out(`report over ${period} (${verified.size} verified entries)`);
      printReport(report, io);
    }
    return report.ok ? EXIT_OK : EXIT_FAILED;
  },
};
