/**
 * Money, one rule for the whole system. An amount is a non-negative decimal string as Shopify
 * sends it ("199.90"); a currency is an upper-case ISO 4217 code ("USD"). Arithmetic is on
 * scaled integers, never floats. Workflow-safe (no Node built-ins): the workflow compares
 * against thresholds, the activities multiply and format, the metrics store keeps micro-units.
 */
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;
const CURRENCY = /^[A-Z]{3}$/;

export class InvalidMoneyError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'InvalidMoneyError';
  }
}

/** The one decimal rule: digits with an optional fraction, surrounding spaces ignored, no sign. */
export function isDecimal(value: string): boolean {
  return DECIMAL.test(value.trim());
}

/** The one currency rule: exactly three upper-case letters, as Shopify and Klaviyo send them. */
export function isCurrency(value: string): boolean {
  return CURRENCY.test(value);
}

function parts(value: string): { whole: string; fraction: string } {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new InvalidMoneyError(`expected a decimal amount such as 59.97 (got "${value}")`);
  return { whole: m[1]!, fraction: m[2] ?? '' };
}

function scaled(value: string, places: number): bigint {
  const { whole, fraction } = parts(value);
  return BigInt(`${whole}${fraction.padEnd(places, '0')}`);
}

/** -1, 0 or 1 as a < b, a = b, a > b. */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const places = Math.max(parts(a).fraction.length, parts(b).fraction.length);
  const x = scaled(a, places);
  const y = scaled(b, places);
  return x < y ? -1 : x > y ? 1 : 0;
}

/**
 * True when `amount` in `currency` reaches the threshold configured for that currency. A
 * currency without a threshold never reaches it: thresholds are per currency because 200 USD
 * and 200 JPY are not the same cart.
 */
export function reachesThreshold(
  amount: string,
  currency: string,
  thresholds: Record<string, string>,
): boolean {
  const threshold = isCurrency(currency) ? thresholds[currency] : undefined;
  if (threshold === undefined || !isDecimal(amount)) return false;
  return compareDecimal(amount, threshold) >= 0;
}

/** `price` x `quantity`, exactly: "19.99" x 3 -> "59.97". */
export function multiplyDecimal(price: string, quantity: number): string {
  if (!Number.isSafeInteger(quantity) || quantity < 0) {
    throw new InvalidMoneyError(`expected a whole quantity of 0 or more (got ${quantity})`);
  }
  const { fraction } = parts(price);
  const digits = (scaled(price, fraction.length) * BigInt(quantity))
    .toString()
    .padStart(fraction.length + 1, '0');
  return fraction.length === 0
    ? digits
    : `${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}`;
}

/** "59.97", "USD", "en-US" -> "$59.97"; an unknown currency falls back to "59.97 XYZ". */
export function formatMoney(amount: string, currency: string, locale: string): string {
  const value = Number(amount);
  if (!Number.isFinite(value)) return `${amount} ${currency}`;
  try {
    return new Intl.NumberFormat(locale, { style: 'currency', currency }).format(value);
  } catch {
    return `${amount} ${currency}`;
  }
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

// Micro-units (1/1,000,000 of the currency unit) are how the metrics store keeps money: exact
// integers per ISO currency, never converted or summed across currencies. Sums are read back
// from the database as text so they stay exact beyond JavaScript's 2^53.
const SCALE_DIGITS = 6;
const SCALE = 10n ** BigInt(SCALE_DIGITS);

/** The currency checked by the one rule, for callers that must refuse a bad one. */
export function assertCurrency(currency: string): string {
  if (!isCurrency(currency)) {
    throw new InvalidMoneyError(`expected a three-letter ISO 4217 currency code (got "${currency}")`);
  }
  return currency;
}

/** "59.97" -> 59970000 (micro-units). Rejects anything that is not a decimal amount. */
export function toMicros(amount: string): number {
  const { whole, fraction } = parts(amount);
  if (fraction.length > SCALE_DIGITS && /[1-9]/.test(fraction.slice(SCALE_DIGITS))) {
    throw new InvalidMoneyError(`expected at most ${SCALE_DIGITS} decimal places (got "${amount}")`);
  }
  const micros = BigInt(whole) * SCALE + BigInt(fraction.slice(0, SCALE_DIGITS).padEnd(SCALE_DIGITS, '0'));
  // A single amount must stay an exact JavaScript number (about 9 billion units at this scale).
  if (micros > BigInt(Number.MAX_SAFE_INTEGER)) {
    throw new InvalidMoneyError(`amount out of range (got "${amount}")`);
  }
  return Number(micros);
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
