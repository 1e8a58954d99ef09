/**
 * The ISO 4217 table shipped in contracts/currencies.json, loaded once. The
 * service and the CLI use it; the browser console imports the same JSON.
 */
import fs from 'node:fs';
import path from 'node:path';
import { packageRoot } from '../package-root.js';
import type { CurrencyTable } from './money.js';

/** The file's shape. */
export interface CurrencyFile {
  noCurrency: string;
  minorUnits: Record<string, number>;
}

/** ISO 4217 "no currency involved": the currency of a free contract's statement lines. */
export const NO_CURRENCY = 'XXX';

let cached: { prices: CurrencyTable; statements: CurrencyTable } | undefined;

function load(): { prices: CurrencyTable; statements: CurrencyTable } {
  if (cached) return cached;
  const file = JSON.parse(fs.readFileSync(path.join(packageRoot(), 'contracts', 'currencies.json'), 'utf8')) as CurrencyFile;
  const prices = Object.freeze({ ...file.minorUnits });
  cached = { prices, statements: Object.freeze({ ...prices, [file.noCurrency]: 0 }) };
  return cached;
}

/** Currencies an offer may be priced in (code -> minor-unit digits). */
export function priceCurrencies(): CurrencyTable {
  return load().prices;
}

/** Currencies a statement line may carry: the price currencies plus XXX for free contracts. */
export function statementCurrencies(): CurrencyTable {
  return load().statements;
}
