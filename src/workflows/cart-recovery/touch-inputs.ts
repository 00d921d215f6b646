/**
 * What a touch asks of the vendors, built from the state: the Shopify step before the email
 * (stock, this touch's code, an older code's revocation) and the email itself. Pure: the
 * issue time is an argument, and every input carries its business idempotency key.
 */
import type {
  DiscountCode,
  IssueCodeInput,
  PrepareTouchInput,
  PreparedTouch,
  RecoveryEmail,
  RevokeCodeInput,
} from '../contracts';
import { touchCopy } from '../copy';
import { stepKey, type StepName } from '../keys';
import type { LineItem } from '../messages';
import type { RecoveryPolicy, Segment } from '../policy';
import type { CartState, IssuedCode } from './state';

/** The code this touch issues (null when its ladder step is 0 %), valid from `now`. */
export function issueInput(
  state: CartState,
  policy: RecoveryPolicy,
  touch: number,
  percent: number,
  now: number,
  /** 1 for the touch's first code; a later one (the first expired) gets a key of its own. */
  generation = 1,
): IssueCodeInput | null {
  if (!(percent > 0)) return null;
  const snapshot = state.snapshot!;
  const step: StepName = generation === 1 ? `touch-${touch}:code` : `touch-${touch}:code-${generation}`;
  return {
    key: stepKey(state.shop, state.checkoutToken, step),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    customerId: snapshot.customerId,
    email: snapshot.email!,
    percent,
    startsAt: new Date(now).toISOString(),
    endsAt: new Date(now + policy.discountValidityMs).toISOString(),
  };
}

export function revokeInput(state: CartState, code: IssuedCode): RevokeCodeInput {
  return {
    key: stepKey(state.shop, state.checkoutToken, `touch-${code.touch}:revoke`),
    shop: state.shop,
    id: code.id,
    code: code.code,
  };
}

export function prepareInput(
  state: CartState,
  touch: number,
  issue: IssueCodeInput | null,
  /** A code from before the previous touch, revoked in the same step as the new one is issued. */
  stale: IssuedCode | null,
): PrepareTouchInput {
  const key = stepKey(state.shop, state.checkoutToken, `touch-${touch}:prepare`);
  return {
    key,
    stock: {
      key,
      shop: state.shop,
      items: state.snapshot!.lineItems.map(({ key, variantId, productId, quantity }) => ({
        key,
        variantId,
        productId,
        quantity,
      })),
    },
    issue,
    revoke: issue && stale ? revokeInput(state, stale) : null,
  };
}

/** The lines still in stock: a line the lookup did not report is kept (unknown is not out of stock). */
export function availableLines(state: CartState, prepared: PreparedTouch): LineItem[] {
  const facts = new Map(prepared.variants.map((v) => [v.lineKey, v]));
  return state.snapshot!.lineItems.filter((line) => facts.get(line.key)?.available !== false);
}

export function recoveryEmail(
  state: CartState,
  policy: RecoveryPolicy,
  touch: number,
  segment: Segment,
  prepared: PreparedTouch,
  available: LineItem[],
  code: { discount: DiscountCode; percent: number } | null,
): RecoveryEmail {
  const snapshot = state.snapshot!;
  const facts = new Map(prepared.variants.map((v) => [v.lineKey, v]));
  const copy = touchCopy(segment, touch);
  return {
    key: stepKey(state.shop, state.checkoutToken, `touch-${touch}:send`),
    shop: state.shop,
    checkoutToken: state.checkoutToken,
    email: snapshot.email!,
    firstName: snapshot.firstName,
    touch,
    totalTouches: policy.touchDelaysMs.length,
    segment,
    subject: copy.subject,
    preheader: copy.preheader,
    items: available.map((line) => ({
      title: line.title,
      variantTitle: line.variantTitle,
      quantity: line.quantity,
      price: line.price,
      imageUrl: facts.get(line.key)?.imageUrl ?? null,
      productUrl: facts.get(line.key)?.productUrl ?? null,
    })),
    total: snapshot.totalPrice,
    currency: snapshot.currency,
    restoreUrl: snapshot.restoreUrl ?? `https://${state.shop}/cart`,
    discount: code
      ? { code: code.discount.code, percent: code.percent, expiresAt: code.discount.expiresAt }
      : null,
  };
}
