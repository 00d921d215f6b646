/**
 * How a vendor's answer becomes a Temporal failure. One place decides, for all three vendors:
 *
 * - rate limited (429, Shopify THROTTLED): retryable, `nextRetryDelay` = the delay the vendor
 *   asked for, so Temporal waits exactly that long instead of its normal backoff;
 * - 5xx, timeouts, broken connections: retryable with the activity's normal backoff;
 * - 401/403: non-retryable `CredentialsRejected` naming the setting that holds the credential;
 * - a refusal of the data: non-retryable `InvalidRecipient` or `VendorRefused`.
 *
 * Messages are built from the HTTP status and the vendor's error codes only. An axios error is
 * never stringified, attached as a cause or logged: its `config` carries the request headers,
 * i.e. the API key, token or Basic credentials.
 */
import { ApplicationFailure } from '@temporalio/common';
import { isAxiosError } from 'axios';
import { FailureType } from '../workflows/contracts';

export type Vendor = 'Klaviyo' | 'Shopify' | 'Gorgias';

/** Retryable failure types (the non-retryable ones the workflow acts on are in src/workflows/contracts.ts). */
export const RetryableFailureType = {
  /** The vendor asked us to slow down; retried after the delay it asked for. */
  RateLimited: 'VendorRateLimited',
  /** 5xx, timeout or broken connection; retried with the normal backoff. */
  Unavailable: 'VendorUnavailable',
} as const;

/** Safe, structured facts about a failed call, attached as the failure's details. */
export interface VendorErrorFacts {
  vendor: Vendor;
  operation: string;
  status: number | null;
  /** Vendor error codes (Klaviyo `code`, Shopify `extensions.code` / userError `code`, ...). */
  codes: string[];
}

const MAX_RETRY_AFTER_MS = 15 * 60_000;

/** `Retry-After` as seconds or an HTTP date, in ms; undefined when absent or unreadable. */
export function parseRetryAfter(value: unknown, now = Date.now()): number | undefined {
  if (typeof value !== 'string' && typeof value !== 'number') return undefined;
  const text = String(value).trim();
  if (text === '') return undefined;
  const seconds = Number(text);
  let ms: number;
  if (Number.isFinite(seconds)) ms = seconds * 1000;
  else {
    const at = Date.parse(text);
    if (Number.isNaN(at)) return undefined;
    ms = at - now;
  }
  // At least one second (a 0 would retry at once and draw another 429), at most 15 minutes
  // (a wild value must not park a cart for days).
  return Math.min(Math.max(Math.ceil(ms), 1000), MAX_RETRY_AFTER_MS);
}

export function rateLimited(facts: VendorErrorFacts, delayMs: number | undefined): ApplicationFailure {
  const wait = delayMs === undefined ? 'no delay given' : `retrying in ${Math.ceil(delayMs / 1000)} s`;
  return ApplicationFailure.create({
    message: `${facts.vendor} rate limit reached during ${facts.operation} (${wait})`,
    type: RetryableFailureType.RateLimited,
    nonRetryable: false,
    details: [facts],
    // Without a delay from the vendor, fall back to the activity's backoff.
    ...(delayMs === undefined ? {} : { nextRetryDelay: delayMs }),
  });
}

export function unavailable(facts: VendorErrorFacts, what: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${facts.vendor} unavailable during ${facts.operation}: ${what}`,
    type: RetryableFailureType.Unavailable,
    nonRetryable: false,
    details: [facts],
  });
}

export function credentialsRejected(facts: VendorErrorFacts, credential: string): ApplicationFailure {
  const why =
    facts.status === 403 ? 'lacks a permission (403)' : `was rejected (${facts.status ?? 'no status'})`;
  return ApplicationFailure.create({
    message: `${credential} ${why} by ${facts.vendor} during ${facts.operation}; fix the setting and restart the worker`,
    type: FailureType.CredentialsRejected,
    nonRetryable: true,
    details: [facts],
  });
}

export function invalidRecipient(facts: VendorErrorFacts, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${facts.vendor} refused the recipient during ${facts.operation}: ${reason}`,
    type: FailureType.InvalidRecipient,
    nonRetryable: true,
    details: [facts],
  });
}

export function vendorRefused(facts: VendorErrorFacts, reason: string): ApplicationFailure {
  return ApplicationFailure.create({
    message: `${facts.vendor} refused ${facts.operation}: ${reason}`,
    type: FailureType.VendorRefused,
    nonRetryable: true,
    details: [facts],
  });
}

/** Network-level error codes of Node and axios that mean "try again". */
const TRANSIENT_CODES = new Set([
  'ECONNABORTED',
  'ETIMEDOUT',
  'ECONNRESET',
  'ECONNREFUSED',
  'EPIPE',
  'EAI_AGAIN',
  'ENOTFOUND',
  'ENETUNREACH',
  'EHOSTUNREACH',
  'ERR_NETWORK',
  'ERR_SOCKET_CONNECTION_TIMEOUT',
  'UND_ERR_SOCKET',
]);

export interface HttpErrorView {
  status: number | null;
  headers: Record<string, unknown>;
  data: unknown;
  /** Node/axios error code for failures without an answer (timeouts, resets). */
  code: string | null;
}

/** The safe parts of an axios error (status, headers, body, code); undefined for other errors. */
export function viewHttpError(err: unknown): HttpErrorView | undefined {
  if (!isAxiosError(err)) return undefined;
  const headers: Record<string, unknown> = {};
  const raw = err.response?.headers as Record<string, unknown> | undefined;
  if (raw) for (const [k, v] of Object.entries(raw)) headers[k.toLowerCase()] = v;
  return {
    status: err.response?.status ?? null,
    headers,
    data: err.response?.data,
    code: err.code ?? null,
  };
}

/**
 * The generic part of the classification (rate limits, outages, credentials); undefined when the
 * answer is a refusal that only the vendor-specific code can interpret (4xx with a body).
 */
export function classifyTransport(
  view: HttpErrorView,
  facts: VendorErrorFacts,
  credential: { unauthorized: string; forbidden?: string },
): ApplicationFailure | undefined {
  const { status } = view;
  if (status === null) {
    const code = view.code ?? 'no answer';
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT') return unavailable(facts, 'timed out');
    if (TRANSIENT_CODES.has(code)) return unavailable(facts, `connection failed (${code})`);
    // A request that never left (e.g. a bad URL) is still worth retrying once the cause is fixed.
    return unavailable(facts, `no answer (${code})`);
  }
  if (status === 429) return rateLimited(facts, parseRetryAfter(view.headers['retry-after']));
  if (status === 401) return credentialsRejected(facts, credential.unauthorized);
  if (status === 403) return credentialsRejected(facts, credential.forbidden ?? credential.unauthorized);
  if (status === 408 || status >= 500) return unavailable(facts, `HTTP ${status}`);
  return undefined;
}

/** A thrown value that is not an HTTP error, e.g. a bug in our code: kept, but never echoed raw. */
export function unexpected(facts: VendorErrorFacts, err: unknown): ApplicationFailure {
  const name = err instanceof Error ? err.name : typeof err;
  return ApplicationFailure.create({
    message: `${facts.vendor} ${facts.operation} failed unexpectedly (${name})`,
    type: RetryableFailureType.Unavailable,
    nonRetryable: false,
    details: [facts],
  });
}
