/**
 * May this customer be emailed? Pure: the inputs are the checkout's opt-in, the latest consent
 * webhook about the customer, and what the ESP (Klaviyo) knows.
 *
 * Rules, in order:
 * 1. A suppressed profile (hard bounce, spam complaint, ...) is never emailed.
 * 2. An explicit refusal is always honoured, also in transactional mode: the latest consent
 *    webhook saying unsubscribed/redacted/invalid, or Klaviyo saying UNSUBSCRIBED (unless a
 *    later webhook says subscribed).
 * 3. With `requireMarketingConsent` (the default) the customer must have opted in: the latest
 *    consent webhook says subscribed, or the checkout opt-in (unless a later webhook says not
 *    subscribed or pending), or Klaviyo SUBSCRIBED. Pending (double opt-in not confirmed) is
 *    not consent.
 * 4. Without it (transactional-style sending, where the law allows), no opt-in is needed.
 */
import type { CustomerFacts } from './contracts';
import type { ConsentChanged } from './messages';

export type Ineligibility = 'suppressed' | 'no_consent';

export interface ConsentInputs {
  acceptsMarketing: boolean;
  /** `updated_at` of the checkout that carried `acceptsMarketing`. */
  checkoutUpdatedAt: string | null;
  latestConsent: ConsentChanged | null;
  facts: Pick<CustomerFacts, 'consent' | 'suppressed'> | null;
  requireMarketingConsent: boolean;
}

export function emailBlockedBy(inputs: ConsentInputs): Ineligibility | null {
  const { acceptsMarketing, checkoutUpdatedAt, latestConsent, facts, requireMarketingConsent } = inputs;
  if (facts?.suppressed) return 'suppressed';
  const webhook = latestConsent?.state ?? null;
  const refusedByWebhook = webhook === 'unsubscribed' || webhook === 'redacted' || webhook === 'invalid';
  const refusedByEsp = facts?.consent === 'UNSUBSCRIBED' && webhook !== 'subscribed';
  if (refusedByWebhook || refusedByEsp) return 'no_consent';
  if (!requireMarketingConsent) return null;
  if (webhook === 'subscribed') return null;
  // A checkout opt-in given after a "not subscribed" webhook is the newer statement.
  const optInIsNewer =
    acceptsMarketing &&
    (latestConsent === null ||
      (checkoutUpdatedAt !== null && Date.parse(checkoutUpdatedAt) > Date.parse(latestConsent.at)));
  if ((webhook === 'not_subscribed' || webhook === 'pending') && !optInIsNewer) return 'no_consent';
  if (acceptsMarketing || facts?.consent === 'SUBSCRIBED') return null;
  return 'no_consent';
}
