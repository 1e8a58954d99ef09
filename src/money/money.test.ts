import { amountFromNumber, amountProblem, normalizePrice, formatMinorUnits, multiplyAmount, toMinorUnits, totalsByCurrency } from './money.js';
import { priceCurrencies, statementCurrencies } from './currencies.js';

const t = priceCurrencies();

describe('amounts in ISO 4217 minor units', () => {
  it('knows the minor units of EUR, JPY and BHD', () => {
    expect([t.EUR, t.JPY, t.BHD, t.CLF]).toEqual([2, 0, 3, 4]);
    expect(t.XXX).toBeUndefined();
    expect(statementCurrencies().XXX).toBe(0);
  });

  it('accepts exactly the currency digits', () => {
    expect(amountProblem(t, '12.50', 'EUR')).toBeNull();
    expect(amountProblem(t, '150', 'JPY')).toBeNull();
    expect(amountProblem(t, '1.500', 'BHD')).toBeNull();
    expect(amountProblem(t, '0', 'JPY')).toBeNull();
    expect(amountProblem(t, '0.00', 'EUR')).toBeNull();
  });

  it.each([
    ['12.345', 'EUR'], ['12.5', 'EUR'], ['12', 'EUR'], ['1.5', 'JPY'], ['1.50', 'BHD'], ['-1.00', 'EUR'], ['01.00', 'EUR'],
    ['1e3', 'JPY'], [' 1.00', 'EUR'], ['1.00', 'ABC'], ['1.00', 'XXX'], ['1.00', 'eur'],
  ])('refuses %s %s', (amount, currency) => {
    expect(amountProblem(t, amount, currency)).toEqual(expect.any(String));
  });

  it('reads the explicit free price "0" in any currency', () => {
    expect(normalizePrice(t, '0', 'EUR')).toBe('0.00');
    expect(normalizePrice(t, '0', 'JPY')).toBe('0');
    expect(normalizePrice(t, '12.50', 'EUR')).toBe('12.50');
    expect(normalizePrice(t, '12.5', 'EUR')).toBeNull();
    expect(normalizePrice(t, '0', 'ABC')).toBeNull();
  });

  it('converts to and from minor units without floats', () => {
    expect(toMinorUnits(t, '12.50', 'EUR')).toBe(1250n);
    expect(toMinorUnits(t, '1.500', 'BHD')).toBe(1500n);
    expect(toMinorUnits(t, '150', 'JPY')).toBe(150n);
    expect(formatMinorUnits(t, 5n, 'EUR')).toBe('0.05');
    expect(formatMinorUnits(t, 0n, 'BHD')).toBe('0.000');
    expect(formatMinorUnits(t, -1234n, 'EUR')).toBe('-12.34');
    expect(formatMinorUnits(t, 150n, 'JPY')).toBe('150');
    expect(() => toMinorUnits(t, '1.5', 'JPY')).toThrow(RangeError);
  });

  it('multiplies where floats drift', () => {
    expect(0.1 * 3).not.toBe(0.3);
    expect(multiplyAmount(t, '0.10', 'EUR', 3)).toBe('0.30');
    expect(19.99 * 7).not.toBe(139.93);
    expect(multiplyAmount(t, '19.99', 'EUR', 7)).toBe('139.93');
    expect(multiplyAmount(t, '999999999999999.99', 'EUR', 1_000_000)).toBe('999999999999999990000.00');
  });

  it('sums per currency in code order', () => {
    expect(totalsByCurrency(t, [
      { amount: '0.10', currency: 'EUR' }, { amount: '0.20', currency: 'EUR' }, { amount: '150', currency: 'JPY' }, { amount: '1.005', currency: 'BHD' },
    ])).toEqual([{ currency: 'BHD', amount: '1.005' }, { currency: 'EUR', amount: '0.30' }, { currency: 'JPY', amount: '150' }]);
  });

  it('reads legacy numbers only when exact in minor units', () => {
    expect(amountFromNumber(t, 12.5, 'EUR')).toEqual({ amount: '12.50' });
    expect(amountFromNumber(t, 0.1, 'EUR')).toEqual({ amount: '0.10' });
    expect(amountFromNumber(t, 150, 'JPY')).toEqual({ amount: '150' });
    expect(amountFromNumber(t, 0, 'EUR')).toEqual({ amount: '0.00' });
    expect(amountFromNumber(t, 12.345, 'EUR')).toHaveProperty('problem');
    expect(amountFromNumber(t, 1.5, 'JPY')).toHaveProperty('problem');
    expect(amountFromNumber(t, 1e21, 'JPY')).toHaveProperty('problem');
    expect(amountFromNumber(t, -1, 'EUR')).toHaveProperty('problem');
    expect(amountFromNumber(t, 1, 'ABC')).toHaveProperty('problem');
  });
});
