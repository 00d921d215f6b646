/**
 * Test wiring for the vendor suites: a Config loaded through the real loadConfig() with the
 * vendors pointed at the local fakes, and assertions on typed failures that also check no
 * secret leaked into anything a log or the Temporal UI would show.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { ApplicationFailure } from '@temporalio/common';
import { loadConfig, type Config } from '../../src/config';

export const SECRETS = {
  klaviyoKey: 'pk_testkey0123456789abcdef0123456789',
  shopifyToken: 'shpat_0123456789abcdef0123456789abcdef',
  discountSecret: 'discount-secret-for-tests-0123456789',
  gorgiasUser: 'agent@shop.example',
  gorgiasKey: 'gorgias-key-0123456789abcdef',
};

export function tempDataDir(): string {
  return fs.mkdtempSync(path.join(os.tmpdir(), 'cart-recovery-vendors-'));
}

export function liveConfig(
  urls: { klaviyo?: string; shopify?: string; gorgias?: string },
  extra: Record<string, string> = {},
): Config {
  return loadConfig({
    DATA_DIR: tempDataDir(),
    VENDOR_HTTP_TIMEOUT: '2s',
    ...(urls.klaviyo ? { KLAVIYO_PRIVATE_API_KEY: SECRETS.klaviyoKey, KLAVIYO_BASE_URL: urls.klaviyo } : {}),
    ...(urls.shopify
      ? {
          SHOPIFY_SHOP_DOMAIN: 'fake-shop.myshopify.com',
          SHOPIFY_ADMIN_ACCESS_TOKEN: SECRETS.shopifyToken,
          SHOPIFY_ADMIN_BASE_URL: urls.shopify,
          DISCOUNT_CODE_SECRET: SECRETS.discountSecret,
        }
      : {}),
    ...(urls.gorgias
      ? {
          GORGIAS_DOMAIN: 'fake-shop',
          GORGIAS_USERNAME: SECRETS.gorgiasUser,
          GORGIAS_API_KEY: SECRETS.gorgiasKey,
          GORGIAS_BASE_URL: urls.gorgias,
        }
      : {}),
    ...extra,
  });
}

/** Everything about a failure that ends up in logs or the Temporal UI. */
function exposed(err: unknown): string {
  const seen: unknown[] = [];
  let cursor: unknown = err;
  while (cursor instanceof Error && !seen.includes(cursor)) {
    seen.push(cursor);
    cursor = cursor.cause;
  }
  return JSON.stringify(
    seen.map((e) => ({
      message: (e as Error).message,
      stack: (e as Error).stack,
      details: e instanceof ApplicationFailure ? e.details : undefined,
    })),
  );
}

export function assertNoSecret(err: unknown): void {
  const text = exposed(err);
  const basic = Buffer.from(`${SECRETS.gorgiasUser}:${SECRETS.gorgiasKey}`).toString('base64');
  for (const secret of [...Object.values(SECRETS).filter((s) => s !== SECRETS.gorgiasUser), basic]) {
    assert.ok(!text.includes(secret), `a secret leaked into the failure: ${text.slice(0, 300)}`);
  }
}

export interface ExpectedFailure {
  type: string;
  nonRetryable: boolean;
  message?: RegExp;
  /** Expected `nextRetryDelay` in ms; null: must be unset (normal backoff). */
  nextRetryDelayMs?: number | null;
}

const toMs = (d: unknown): number | undefined =>
  d === undefined || d === null ? undefined : typeof d === 'number' ? d : Number.NaN;

/** Asserts `promise` rejects with an ApplicationFailure as described, and leaks no secret. */
export async function rejectsWithFailure(
  promise: Promise<unknown>,
  expected: ExpectedFailure,
): Promise<ApplicationFailure> {
  let caught: unknown;
  await assert.rejects(promise, (err: unknown) => {
    caught = err;
    return err instanceof ApplicationFailure;
  });
  const failure = caught as ApplicationFailure;
  assert.equal(failure.type, expected.type, failure.message);
  assert.equal(failure.nonRetryable, expected.nonRetryable, failure.message);
  if (expected.message) assert.match(failure.message, expected.message);
  if (expected.nextRetryDelayMs !== undefined) {
    assert.equal(toMs(failure.nextRetryDelay), expected.nextRetryDelayMs ?? undefined, failure.message);
  }
  assertNoSecret(failure);
  return failure;
}
