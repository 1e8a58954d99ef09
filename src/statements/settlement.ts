/**
 * The settlement of a period, pure: every provider's and every consumer's
 * statement (the same builder as issued statements, over the same releases
 * at one tree size), summed per currency, with the check that what the
 * consumers owe equals what the providers are owed in every currency.
 */
import { formatMinorUnits, toMinorUnits, type CurrencyTable } from '../money/money.js';
import { buildLines, countedReleases, type ContractTerms, type CountedRelease, type StatementRole } from './statement-document.js';

/** One party's side in one currency. */
export interface SettlementParty {
  party: string;
  amount: string;
  invocations: number;
}

/** One currency of a settlement. */
export interface SettlementCurrency {
  currency: string;
  /** What each consumer owes. */
  consumers: SettlementParty[];
  /** What each provider is owed. */
  providers: SettlementParty[];
  consumersTotal: string;
  providersTotal: string;
  balanced: boolean;
}

/** Per currency, both sides of every release in [from, to). */
export function settle(table: CurrencyTable, releases: readonly CountedRelease[], terms: ReadonlyMap<string, ContractTerms>, from: string, to: string): { currencies: SettlementCurrency[]; balanced: boolean } {
  const sides: Record<StatementRole, Map<string, Map<string, { minor: bigint; invocations: number }>>> = { provider: new Map(), consumer: new Map() };
  for (const role of ['provider', 'consumer'] as const) {
    const parties = new Set(releases.map((r) => (role === 'provider' ? r.provider : r.consumer)));
    for (const party of parties) {
      const lines = buildLines(table, countedReleases(releases, { party, role, from, to }), terms, role);
      for (const l of lines) {
        const byParty = sides[role].get(l.currency) ?? new Map<string, { minor: bigint; invocations: number }>();
        const cur = byParty.get(party) ?? { minor: 0n, invocations: 0 };
        byParty.set(party, { minor: cur.minor + toMinorUnits(table, l.amount, l.currency), invocations: cur.invocations + l.invocations });
        sides[role].set(l.currency, byParty);
      }
    }
  }
  const codes = [...new Set([...sides.provider.keys(), ...sides.consumer.keys()])].sort();
  const currencies = codes.map((currency) => {
    const list = (role: StatementRole) =>
      [...(sides[role].get(currency) ?? new Map<string, { minor: bigint; invocations: number }>()).entries()]
        .sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0))
        .map(([party, v]) => ({ party, minor: v.minor, invocations: v.invocations }));
    const consumers = list('consumer');
    const providers = list('provider');
    const sum = (xs: Array<{ minor: bigint }>) => xs.reduce((a, x) => a + x.minor, 0n);
    const fmt = (m: bigint) => formatMinorUnits(table, m, currency);
    const c = sum(consumers);
    const p = sum(providers);
    return {
      currency,
      consumers: consumers.map((x) => ({ party: x.party, amount: fmt(x.minor), invocations: x.invocations })),
      providers: providers.map((x) => ({ party: x.party, amount: fmt(x.minor), invocations: x.invocations })),
      consumersTotal: fmt(c),
      providersTotal: fmt(p),
      balanced: c === p,
    };
  });
  return { currencies, balanced: currencies.every((c) => c.balanced) };
}
