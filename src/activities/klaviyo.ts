/**
 * Klaviyo activities: customer enrichment and the recovery email (an event of the recovery
 * metric, which the merchant's Klaviyo flow turns into an email). They run against a
 * `KlaviyoClient`: the live SDK client or the local sandbox, with the same checks either way.
 */
import { ApplicationFailure } from '@temporalio/common';
import {
  FailureType,
  type CustomerFacts,
  type EnrichCustomerInput,
  type KlaviyoActivities,
  type RecoveryEmail,
} from '../workflows/contracts';
import type { KlaviyoClient, KlaviyoProfile } from '../vendors/klaviyo/client';
import { recoveryEmailProperties } from '../vendors/klaviyo/email-properties';
import {
  isAbsoluteUrl,
  isCurrency,
  isDecimal,
  isIsoInstant,
  normaliseEmail,
  requireInput,
} from '../vendors/validate';
import { logger } from '../logger';
import { Context } from '@temporalio/activity';

/**
 * Stop on order: the workflow cancels a send when it learns of an order, and cancellation
 * reaches a running activity only through a heartbeat's answer. The event is the point of no
 * return (Klaviyo's flow mails it at once), so ask once, right before it, and give the answer
 * a moment to arrive. Outside a Temporal activity (unit tests of the client) there is no one
 * to ask.
 */
export const CANCELLATION_CHECK_MS = 200;
async function lastChanceToCancel(): Promise<void> {
  let ctx: Context;
  try {
    ctx = Context.current();
  } catch {
    return;
  }
  ctx.heartbeat('about to send');
  await ctx.sleep(CANCELLATION_CHECK_MS); // throws CancelledFailure if the cancellation arrives
}

export interface KlaviyoActivityDeps {
  client: KlaviyoClient;
  recoveryMetric: string;
  /** Historic CLV (account currency) at or above which a customer is VIP; null: not used. */
  vipClvThreshold: number | null;
  /** Klaviyo segment whose members are VIP; null: not used. */
  vipSegmentId: string | null;
  /** Locale of the preformatted amounts and dates in the event properties. */
  locale: string;
  now?: () => Date;
}

/** A profile with an event in this window counts as engaged; older activity as lapsed. */
const ENGAGED_WITHIN_MS = 90 * 24 * 3_600_000;

const CONSENTS = ['SUBSCRIBED', 'UNSUBSCRIBED', 'NEVER_SUBSCRIBED'] as const;

export const NEW_CUSTOMER: CustomerFacts = {
  known: false,
  ordersCount: 0,
  lifetimeValue: '0.00',
  predictedLifetimeValue: null,
  averageOrderValue: null,
  churnProbability: null,
  currency: null,
  vip: false,
  engagement: 'unknown',
  consent: 'UNKNOWN',
  suppressed: false,
  suppressionReasons: [],
  timezone: null,
};

const decimal = (n: number | null) => (n === null ? null : n.toFixed(2));

export function createKlaviyoActivities(deps: KlaviyoActivityDeps): KlaviyoActivities {
  const now = deps.now ?? (() => new Date());

  async function isVip(profile: KlaviyoProfile): Promise<boolean> {
    const clv = profile.predictive?.historicClv ?? null;
    if (deps.vipClvThreshold !== null && clv !== null && clv >= deps.vipClvThreshold) return true;
    if (deps.vipSegmentId !== null) return deps.client.isProfileInSegment(profile.id, deps.vipSegmentId);
    return false;
  }

  return {
    async enrichCustomer(input: EnrichCustomerInput): Promise<CustomerFacts> {
      const email = normaliseEmail('Klaviyo', 'profile lookup', input.email);
      const profile = await deps.client.findProfileByEmail(email);
      if (!profile) {
        logger.debug('klaviyo: unknown customer, treated as new', { key: input.key });
        return { ...NEW_CUSTOMER };
      }
      const pa = profile.predictive;
      const marketing = profile.emailMarketing;
      const consent = CONSENTS.find((c) => c === marketing?.consent?.toUpperCase()) ?? 'UNKNOWN';
      const lastEvent = profile.lastEventDate ? Date.parse(profile.lastEventDate) : NaN;
      const engagement = Number.isNaN(lastEvent)
        ? 'unknown'
        : now().getTime() - lastEvent <= ENGAGED_WITHIN_MS
          ? 'engaged'
          : 'lapsed';
      const [vip, currency] = await Promise.all([
        isVip(profile),
        pa ? deps.client.accountCurrency() : Promise.resolve(null),
      ]);
      const reasons = marketing?.suppressionReasons ?? [];
      return {
        known: true,
        ordersCount: pa?.historicNumberOfOrders ?? 0,
        lifetimeValue: decimal(pa?.historicClv ?? 0) ?? '0.00',
        predictedLifetimeValue: decimal(pa?.predictedClv ?? null),
        averageOrderValue: decimal(pa?.averageOrderValue ?? null),
        churnProbability: pa?.churnProbability ?? null,
        currency,
        vip,
        engagement,
        consent,
        suppressed: reasons.length > 0,
        suppressionReasons: reasons,
        timezone: profile.timezone,
      };
    },

    async sendRecoveryEmail(input: RecoveryEmail): Promise<{ messageId: string }> {
      const op = 'recovery email';
      const email = normaliseEmail('Klaviyo', op, input.email);
      requireInput('Klaviyo', op, input.key.trim() !== '', 'key', 'a business idempotency key');
      requireInput('Klaviyo', op, input.items.length > 0, 'items', 'at least one line item');
      requireInput('Klaviyo', op, isCurrency(input.currency), 'currency', 'an ISO 4217 code such as USD');
      requireInput('Klaviyo', op, isDecimal(input.total), 'total', 'a decimal amount such as 59.97');
      requireInput('Klaviyo', op, isAbsoluteUrl(input.restoreUrl), 'restoreUrl', 'an absolute http(s) URL');
      requireInput(
        'Klaviyo',
        op,
        Number.isInteger(input.touch) && input.touch >= 1,
        'touch',
        'a whole number from 1',
      );
      for (const item of input.items) {
        requireInput('Klaviyo', op, isDecimal(item.price), 'items[].price', 'a decimal amount');
        requireInput(
          'Klaviyo',
          op,
          Number.isInteger(item.quantity) && item.quantity > 0,
          'items[].quantity',
          'a whole number above 0',
        );
      }
      if (input.discount) {
        requireInput('Klaviyo', op, input.discount.code.trim() !== '', 'discount.code', 'a code');
        requireInput(
          'Klaviyo',
          op,
          isIsoInstant(input.discount.expiresAt),
          'discount.expiresAt',
          'an ISO-8601 instant',
        );
      }
      await lastChanceToCancel();
      // A retry after an outage must not mail at night or on top of the next touch.
      if (input.sendBy !== undefined && now().getTime() > Date.parse(input.sendBy)) {
        throw ApplicationFailure.create({
          type: FailureType.SendWindowClosed,
          message: `the send window closed at ${input.sendBy}; the workflow decides again`,
          nonRetryable: true,
        });
      }
      const { reference } = await deps.client.createEvent({
        metric: deps.recoveryMetric,
        email,
        uniqueId: input.key,
        value: Number(input.total),
        valueCurrency: input.currency,
        properties: { ...recoveryEmailProperties(input, deps.locale) },
      });
      logger.info('klaviyo: recovery touch recorded', {
        key: input.key,
        touch: input.touch,
        segment: input.segment,
      });
      return { messageId: reference };
    },
  };
}
