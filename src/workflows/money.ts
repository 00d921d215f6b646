/**
 * Money as Shopify sends it: decimal strings ("199.90"). Comparisons are exact (scaled
 * integers), never floating point; workflow-safe (no Node built-ins).
 */
const DECIMAL = /^(\d+)(?:\.(\d+))?$/;

export function isDecimal(value: string): boolean {
  return DECIMAL.test(value.trim());
}

function scaled(value: string, places: number): bigint {
  const m = DECIMAL.exec(value.trim());
  if (!m) throw new Error(`not a decimal amount: "${value}"`);
  const fraction = (m[2] ?? '').padEnd(places, '0');
  return BigInt(`${m[1]}${fraction}`);
}

/** -1, 0 or 1 as a < b, a = b, a > b. Both must be non-negative decimal strings. */
export function compareDecimal(a: string, b: string): -1 | 0 | 1 {
  const places = Math.max((a.split('.')[1] ?? '').length, (b.split('.')[1] ?? '').length);
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
  const threshold = thresholds[currency.toUpperCase()];
  if (threshold === undefined || !isDecimal(amount)) return false;
  return compareDecimal(amount, threshold) >= 0;
}
