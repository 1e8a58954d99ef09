/**
 * Exact money: amounts are decimal strings with exactly the currency's ISO
 * 4217 minor-unit digits ("12.50" EUR, "150" JPY, "1.500" BHD), computed as
 * BigInt counts of minor units so no binary float ever touches a price or a
 * total. Pure: the currency table is passed in (see currencies.ts), which
 * keeps this module usable in the browser console as well.
 */

/** Minor-unit digits by ISO 4217 code. */
export type CurrencyTable = Readonly<Record<string, number>>;

/** Pattern every amount string matches before its digits are checked against the currency (no sign, no exponent, no leading zeros). */
export const AMOUNT_PATTERN = /^(0|[1-9][0-9]{0,17})(\.[0-9]{1,4})?$/;

/** Why an amount is not valid in a currency, or null when it is. */
export function amountProblem(table: CurrencyTable, amount: string, currency: string): string | null {
  const digits = table[currency];
  if (digits === undefined) return `${currency} is not an ISO 4217 currency that can price an offer (see contracts/currencies.json)`;
  if (!AMOUNT_PATTERN.test(amount)) return `"${amount}" is not a non-negative decimal amount such as "12.50"`;
  const frac = amount.split('.')[1] ?? '';
  if (frac.length !== digits) {
    const example = digits === 0 ? '150' : `12.${'5'.padEnd(digits, '0')}`;
    return `${currency} amounts carry exactly ${digits} decimal digit(s) (ISO 4217 minor unit), e.g. "${example}"; "${amount}" has ${frac.length}`;
  }
  return null;
}

/**
 * The stored form of an offer's price amount: a valid amount unchanged, and
 * the explicit free price "0" in any currency padded to its digits ("0" EUR
 * -> "0.00"); null when the amount is not valid (amountProblem says why).
 */
export function normalizePrice(table: CurrencyTable, amount: string, currency: string): string | null {
  if (amount === '0' && table[currency] !== undefined) return formatMinorUnits(table, 0n, currency);
  return amountProblem(table, amount, currency) === null ? amount : null;
}

/** Minor units of a valid amount ("12.50" EUR -> 1250n). Throws on an invalid one (call amountProblem first at the edge). */
export function toMinorUnits(table: CurrencyTable, amount: string, currency: string): bigint {
  const problem = amountProblem(table, amount, currency);
  if (problem) throw new RangeError(problem);
  return BigInt(amount.replace('.', ''));
}

/** The amount string of a count of minor units (1250n EUR -> "12.50"; negative amounts keep their sign). */
export function formatMinorUnits(table: CurrencyTable, minor: bigint, currency: string): string {
  const digits = table[currency];
  if (digits === undefined) throw new RangeError(`unknown currency ${currency}`);
  const negative = minor < 0n;
  const s = (negative ? -minor : minor).toString().padStart(digits + 1, '0');
  const whole = digits === 0 ? s : `${s.slice(0, s.length - digits)}.${s.slice(s.length - digits)}`;
  return negative ? `-${whole}` : whole;
}

/** invocations × perInvocation, exactly, as an amount string in the same currency. */
export function multiplyAmount(table: CurrencyTable, perInvocation: string, currency: string, invocations: number | bigint): string {
  return formatMinorUnits(table, toMinorUnits(table, perInvocation, currency) * BigInt(invocations), currency);
}

/**
 * The amount string of a legacy JSON number (`pricePerInvocation`), or a
 * problem. JSON carries decimal text; JSON.parse turns it into the nearest
 * double, whose shortest round-trip form (String(n)) is the text the client
 * wrote for any price of up to 15 significant digits. That text is accepted
 * only when it has no more decimals than the currency's minor unit, and is
 * then padded ("12.5" EUR -> "12.50"); otherwise the client must send `price`.
 */
export function amountFromNumber(table: CurrencyTable, n: number, currency: string): { amount: string } | { problem: string } {
  const digits = table[currency];
  if (digits === undefined) return { problem: `${currency} is not an ISO 4217 currency that can price an offer (see contracts/currencies.json)` };
  if (!Number.isFinite(n) || n < 0) return { problem: 'a price is a non-negative amount' };
  const text = String(n);
  if (!/^[0-9]+(\.[0-9]+)?$/.test(text)) return { problem: `${text} cannot be read exactly as a decimal amount: send price: {perInvocation: "<decimal string>", currency}` };
  const [whole, frac = ''] = text.split('.');
  if (frac.length > digits || whole!.length > 18) {
    return { problem: `${text} is not exact in ${currency} minor units (${digits} decimal digit(s)): send price: {perInvocation: "<decimal string>", currency}` };
  }
  const amount = digits === 0 ? whole! : `${whole}.${frac.padEnd(digits, '0')}`;
  return { amount };
}

/** Sum of amount strings per currency, exactly; currencies in code order. */
export function totalsByCurrency(table: CurrencyTable, items: ReadonlyArray<{ amount: string; currency: string }>): Array<{ currency: string; amount: string }> {
  const sums = new Map<string, bigint>();
  for (const i of items) sums.set(i.currency, (sums.get(i.currency) ?? 0n) + toMinorUnits(table, i.amount, i.currency));
  return [...sums.keys()].sort().map((currency) => ({ currency, amount: formatMinorUnits(table, sums.get(currency)!, currency) }));
}
