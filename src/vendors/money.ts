/**
 * Money for emails and tickets. Amounts stay decimal strings end to end (Shopify sends them so);
 * arithmetic is done on scaled integers, never on floats.
 */

const DECIMAL = /^-?\d+(\.\d+)?$/;

export function isDecimal(value: string): boolean {
  return DECIMAL.test(value.trim());
}

/** `price` x `quantity`, exactly: "19.99" x 3 -> "59.97". */
export function multiplyDecimal(price: string, quantity: number): string {
  const text = price.trim();
  if (!DECIMAL.test(text)) throw new RangeError('not a decimal amount');
  const negative = text.startsWith('-');
  const [whole = '0', fraction = ''] = text.replace('-', '').split('.');
  const scaled = BigInt(whole + fraction) * BigInt(quantity);
  const digits = scaled.toString().padStart(fraction.length + 1, '0');
  const result =
    fraction.length === 0 ? digits : `${digits.slice(0, -fraction.length)}.${digits.slice(-fraction.length)}`;
  return negative && scaled !== 0n ? `-${result}` : result;
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

/** An ISO instant as a short, unambiguous date and time in UTC, e.g. "Nov 27, 2026, 18:00 UTC". */
export function formatInstant(iso: string, locale: string): string {
  const at = new Date(iso);
  if (Number.isNaN(at.getTime())) return iso;
  return (
    new Intl.DateTimeFormat(locale, {
      dateStyle: 'medium',
      timeStyle: 'short',
      timeZone: 'UTC',
    }).format(at) + ' UTC'
  );
}
