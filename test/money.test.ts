import assert from 'node:assert/strict';
import {
  assertCurrency,
  compareDecimal,
  dividedBy,
  formatMoney,
  fromMicros,
  InvalidMoneyError,
  isCurrency,
  isDecimal,
  multiplyDecimal,
  reachesThreshold,
  toMicros,
} from '../src/workflows/money';
import { moneyByCurrency } from '../src/config/schemas';

describe('money: one decimal rule and one currency rule for every module', function () {
  const decimals: [string, boolean][] = [
    ['59.97', true],
    ['1500', true],
    ['1.234', true],
    [' 19.99 ', true],
    ['0', true],
    ['-1', false],
    ['-0.01', false],
    ['+5', false],
    ['12,50', false],
    ['1e3', false],
    ['.5', false],
    ['5.', false],
    ['', false],
    ['NaN', false],
  ];
  for (const [amount, ok] of decimals) {
    it(`"${amount}" is ${ok ? '' : 'not '}an amount for the workflow, the vendors, the metrics and the settings`, function () {
      assert.equal(isDecimal(amount), ok);
      if (ok) {
        assert.doesNotThrow(() => toMicros(amount));
        assert.doesNotThrow(() => multiplyDecimal(amount, 2));
        assert.doesNotThrow(() => compareDecimal(amount, '1'));
      } else {
        assert.throws(() => toMicros(amount), InvalidMoneyError);
        assert.throws(() => multiplyDecimal(amount, 2), InvalidMoneyError);
        assert.throws(() => compareDecimal(amount, '1'), /not a decimal amount|expected a decimal amount/);
        assert.equal(reachesThreshold(amount, 'USD', { USD: '0' }), false);
      }
      assert.equal(moneyByCurrency.safeParse(`USD:${amount.trim()}`).success, ok && amount.trim() !== '');
    });
  }

  const currencies: [string, boolean][] = [
    ['USD', true],
    ['JPY', true],
    ['usd', false],
    ['US', false],
    ['USDT', false],
    ['U5D', false],
  ];
  for (const [currency, ok] of currencies) {
    it(`"${currency}" is ${ok ? '' : 'not '}a currency anywhere`, function () {
      assert.equal(isCurrency(currency), ok);
      if (ok) assert.equal(assertCurrency(currency), currency);
      else assert.throws(() => assertCurrency(currency), InvalidMoneyError);
      assert.equal(reachesThreshold('500', currency, { [currency]: '200' }), ok);
      assert.equal(moneyByCurrency.safeParse(`${currency}:200`).success, ok);
    });
  }
});

describe('money arithmetic', function () {
  it('compares decimal strings exactly, not as floats', function () {
    assert.equal(compareDecimal('0.30', '0.3'), 0);
    assert.equal(compareDecimal('1000000000000000.01', '1000000000000000.00'), 1);
    assert.equal(compareDecimal('9.5', '10'), -1);
  });

  it('a threshold is per currency: a currency without one never reaches it', function () {
    const thresholds = { USD: '200', JPY: '30000' };
    assert.equal(reachesThreshold('200.00', 'USD', thresholds), true);
    assert.equal(reachesThreshold('199.99', 'USD', thresholds), false);
    assert.equal(reachesThreshold('200', 'JPY', thresholds), false);
    assert.equal(reachesThreshold('9999', 'EUR', thresholds), false);
  });

  it('multiplies exactly and refuses a negative or fractional quantity', function () {
    assert.equal(multiplyDecimal('19.99', 3), '59.97');
    assert.equal(multiplyDecimal('0.10', 3), '0.30');
    assert.equal(multiplyDecimal('1200', 2), '2400');
    assert.equal(multiplyDecimal('0.05', 0), '0.00');
    assert.throws(() => multiplyDecimal('1.00', -1), InvalidMoneyError);
    assert.throws(() => multiplyDecimal('1.00', 1.5), InvalidMoneyError);
  });

  it('formats per locale, and an unknown currency as amount and code', function () {
    assert.equal(formatMoney('59.97', 'USD', 'en-US'), '$59.97');
    assert.equal(formatMoney('59.97', 'EUR', 'de-DE'), '59,97\u00a0€');
    assert.equal(formatMoney('59.97', 'XXXX', 'en-US'), '59.97 XXXX');
  });

  it('micro-units round-trip decimal strings exactly and keep the currency digits', function () {
    assert.equal(toMicros('59.97'), 59_970_000);
    assert.equal(fromMicros(59_970_000, 'USD'), '59.97');
    assert.equal(fromMicros(toMicros('1500'), 'JPY'), '1500');
    assert.equal(fromMicros(toMicros('1.234'), 'KWD'), '1.234');
    assert.equal(fromMicros('123456789012345678000000', 'USD'), '123456789012345678.00');
    assert.throws(() => toMicros('1.0000001'), /at most 6 decimal places/);
    assert.throws(() => toMicros('99999999999'), /out of range/);
  });

  it('divides with half-up rounding to the currency unit', function () {
    assert.equal(dividedBy(toMicros('10'), 3, 'USD'), '3.33');
    assert.equal(dividedBy(toMicros('20'), 3, 'USD'), '6.67');
    assert.equal(dividedBy(toMicros('1000'), 3, 'JPY'), '333');
    assert.equal(dividedBy(toMicros('10'), 0, 'USD'), '0.00');
  });

  it('settings thresholds accept the currency digits a shop uses (KWD has three)', function () {
    assert.deepEqual(moneyByCurrency.parse('USD:200, KWD:61.125'), { USD: '200', KWD: '61.125' });
  });
});
