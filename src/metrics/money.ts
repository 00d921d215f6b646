/**
 * Money in the metrics store: exact integers of micro-units (1/1,000,000 of the currency unit),
 * kept per ISO currency and never converted or summed across currencies. Sums are read back
 * from the database as text so they stay exact beyond JavaScript's 2^53.
 */

const SCALE_DIGITS = 6;
const SCALE = 10n ** BigInt(SCALE_DIGITS);
const DECIMAL = /^(-?)(\d+)(?:\.(\d+))?$/;
const CURRENCY = /^[A-Z]{3}$/;

export class InvalidMoneyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMoneyError';
  }
}

/** "59.97" -> 59970000 (micro-units). Rejects anything that is not a plain decimal string. */
export function toMicros(amount: string): number {
  const m = DECIMAL.exec(amount.trim());
  if (!m) throw new InvalidMoneyError(`expected a decimal amount such as 59.97 (got "${amount}")`);
  const [, sign, whole, fraction = ''] = m;
  if (fraction.length > SCALE_DIGITS && /[1-9]/.test(fraction.slice(SCALE_DIGITS))) {
    throw new InvalidMoneyError(`expected at most ${SCALE_DIGITS} decimal places (got "${amount}")`);
  }
  const micros = BigInt(whole!) * SCALE + BigInt(fraction.slice(0, SCALE_DIGITS).padEnd(SCALE_DIGITS, '0'));
  const value = sign === '-' ? -micros : micros;
  // A single amount must stay an exact JavaScript number (about 9 billion units at this scale).
  if (value > BigInt(Number.MAX_SAFE_INTEGER) || value < -BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidMoneyError(`amount out of range (got "${amount}")`);
  }
  return Number(value);
}

export function assertCurrency(currency: string): string {
  const upper = currency.trim().toUpperCase();
  if (!CURRENCY.test(upper)) {
    throw new InvalidMoneyError(`expected a three-letter ISO 4217 currency code (got "${currency}")`);
  }
  return upper;
}

/** Digits after the decimal point the currency normally shows (USD 2, JPY 0, KWD 3). */
export function currencyDigits(currency: string): number {
  try {
    return (
      new Intl.NumberFormat('en', { style: 'currency', currency }).resolvedOptions().maximumFractionDigits ??
      2
    );
  } catch {
    return 2;
  }
}

/**
 * Micro-units (a number, bigint or the exact text a database returned) to a decimal string with
 * the currency's usual digits, keeping any extra precision instead of rounding it away.
 */
export function fromMicros(micros: number | bigint | string | null | undefined, currency: string): string {
  const value = micros === null || micros === undefined || micros === '' ? 0n : BigInt(micros);
  const negative = value < 0n;
  const abs = negative ? -value : value;
  const whole = abs / SCALE;
  let fraction = (abs % SCALE).toString().padStart(SCALE_DIGITS, '0');
  const digits = currencyDigits(currency);
  fraction = fraction.replace(/0+$/, '');
  if (fraction.length < digits) fraction = fraction.padEnd(digits, '0');
  return `${negative ? '-' : ''}${whole}${fraction ? `.${fraction}` : ''}`;
}

/** Exact division of a money amount by a count, rounded half-up to the currency's digits. */
export function dividedBy(micros: string | number | bigint, count: number, currency: string): string {
  if (count <= 0) return fromMicros(0, currency);
  const unit = 10n ** BigInt(SCALE_DIGITS - Math.min(currencyDigits(currency), SCALE_DIGITS));
  const total = BigInt(micros);
  const n = BigInt(count);
  // Round to the currency's smallest unit, half away from zero.
  const units = (total * 2n + n * unit) / (2n * n * unit);
  return fromMicros(units * unit, currency);
}
