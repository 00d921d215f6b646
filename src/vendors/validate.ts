/**
 * Checks of activity inputs that every vendor implementation (live or sandbox) shares, so the
 * sandbox refuses exactly what the live path refuses. A bad input is a bug upstream or bad data
 * from a webhook: it fails for good with a message naming the field, never the value.
 */
import { invalidRecipient, vendorRefused, type Vendor } from './failures';
import { isCurrency, isDecimal } from '../workflows/money';

/** Loose on purpose: the vendor has the final word; this only stops what no vendor accepts. */
const EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[^\s@"<>,;]+$/;

export function normaliseEmail(vendor: Vendor, operation: string, email: string | null | undefined): string {
  const trimmed = (email ?? '').trim();
  if (!EMAIL.test(trimmed) || trimmed.length > 254) {
    throw invalidRecipient(
      { vendor, operation, status: null, codes: ['invalid_email'] },
      trimmed === '' ? 'no email address' : 'the email address is not valid',
    );
  }
  return trimmed.toLowerCase();
}

export function requireInput(
  vendor: Vendor,
  operation: string,
  ok: boolean,
  field: string,
  expected: string,
): void {
  if (!ok) {
    throw vendorRefused(
      { vendor, operation, status: null, codes: ['invalid_input'] },
      `${field}: expected ${expected}`,
    );
  }
}

export const isIsoInstant = (value: string) =>
  !Number.isNaN(Date.parse(value)) && /^\d{4}-\d{2}-\d{2}T/.test(value);
export const isAbsoluteUrl = (value: string) => {
  try {
    const u = new URL(value);
    return u.protocol === 'https:' || u.protocol === 'http:';
  } catch {
    return false;
  }
};
export { isCurrency, isDecimal };
