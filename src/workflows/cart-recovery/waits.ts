/**
 * The Temporal mechanics of a cart: waiting (flush first, then a durable timer or a wake-up
 * condition), running a vendor activity that an order may cancel, and the flush of the buffered
 * search attributes and metrics.
 *
 * Cost discipline (billable actions): search attributes and metrics are buffered and flushed
 * once, right before the workflow waits, instead of after every change.
 */
import {
  ActivityFailure,
  ApplicationFailure,
  CancellationScope,
  condition,
  isCancellation,
  log,
  setCurrentDetails,
  TimeoutFailure,
  upsertSearchAttributes,
} from '@temporalio/workflow';
import type { SearchAttributeUpdatePair } from '@temporalio/common';
import { FailureType } from '../contracts';
import type { Outcome } from '../messages';
import { isDecimal } from '../money';
import type { RecoveryPolicy } from '../policy';
import {
  CartCurrency,
  CartNextTouch,
  CartOutcome,
  CartSegment,
  CartShop,
  CartStage,
  CartValue,
} from '../search-attributes';
import type { CartActivities } from './proxies';
import { stopKnown } from './questions';
import { describeCart, type CartState, type SearchAttributeValues } from './state';

const MINUTE = 60_000;
/** How long a cart waits before retrying after a vendor rejected our credentials. */
const CREDENTIALS_RETRY_MS = 15 * MINUTE;

export type Step<T> =
  | { kind: 'ok'; value: T }
  /** An order, deletion or completion became known: the main loop ends the workflow. */
  | { kind: 'stopped' }
  | { kind: 'ended'; outcome: Outcome }
  /** Try the same step again later (the state says where). */
  | { kind: 'retry' };

export interface VendorStepOptions {
  /** An order (or deletion) that becomes known while the activity is queued or running cancels it. */
  cancelOnStop: boolean;
  /** Also cancel it when this holds (a send: consent withdrawn, redaction, the shopper back). */
  cancelWhen?: () => boolean;
}

export class CartWaits {
  constructor(
    private readonly state: CartState,
    private readonly policy: RecoveryPolicy,
    private readonly metrics: CartActivities['metrics'],
  ) {}

  /** The wake-up condition of most waits: an order, completion or deletion is known. */
  readonly stopKnown = (): boolean => stopKnown(this.state);

  /**
   * Flush buffered bookkeeping, then wait until `deadline` or until `wake()` holds. Returns
   * true when woken. Flushing here, not at each change, is what keeps a cart's billable
   * actions low: one search-attribute upsert and one local-activity batch per wait at most.
   */
  async waitUntil(deadline: number, wake: () => boolean, summary: string): Promise<boolean> {
    await this.flush();
    if (wake()) return true;
    const ms = deadline - Date.now();
    if (ms <= 0) return false;
    return await condition(wake, ms, { summary });
  }

  /**
   * Run a vendor activity. Typed vendor refusals become outcomes; rejected credentials pause
   * the cart and retry later instead of failing it.
   */
  async vendorStep<T>(
    work: () => Promise<T>,
    { cancelOnStop, cancelWhen }: VendorStepOptions,
  ): Promise<Step<T>> {
    if (this.stopKnown()) return { kind: 'stopped' };
    try {
      if (!cancelOnStop) return { kind: 'ok', value: await work() };
      return await this.untilStopped(work, cancelWhen ?? this.stopKnown);
    } catch (err) {
      const type = failureType(err);
      if (type === FailureType.InvalidRecipient) return { kind: 'ended', outcome: 'invalid_email' };
      if (type === FailureType.CredentialsRejected) {
        log.error('vendor rejected our credentials; retrying later', {
          workflowId: this.state.workflowId,
          err,
        });
        await this.waitUntil(
          Date.now() + CREDENTIALS_RETRY_MS,
          this.stopKnown,
          'vendor credentials rejected; retrying',
        );
        return { kind: 'retry' };
      }
      if (gaveUpInTime(err) || type === FailureType.SendWindowClosed) {
        // The vendor stayed down for the whole schedule-to-close: the cart takes the decision
        // again (order, consent, quiet hours, the gap, a later touch now due) before retrying.
        log.warn('vendor step timed out; deciding again', { workflowId: this.state.workflowId, err });
        return { kind: 'retry' };
      }
      if (err instanceof ActivityFailure) {
        log.error('vendor refused the request', { workflowId: this.state.workflowId, err });
        return { kind: 'ended', outcome: 'vendor_refused' };
      }
      throw err;
    }
  }

  private async untilStopped<T>(work: () => Promise<T>, stop: () => boolean): Promise<Step<T>> {
    const workScope = new CancellationScope();
    const running = workScope.run(work);
    const stopScope = new CancellationScope();
    const stopped = stopScope.run(() => condition(stop));
    stopped.catch(() => undefined);
    try {
      const first = await Promise.race([running.then((value) => ({ value })), stopped.then(() => null)]);
      if (first) return { kind: 'ok', value: first.value };
      workScope.cancel();
      try {
        // WAIT_CANCELLATION_COMPLETED: if the vendor call finished anyway, we record it.
        return { kind: 'ok', value: await running };
      } catch (err) {
        if (isCancellation(err)) return { kind: 'stopped' };
        throw err;
      }
    } finally {
      stopScope.cancel();
    }
  }

  /** Write changed search attributes and the Web UI details, and record buffered metrics. */
  async flush(): Promise<void> {
    this.syncSearchAttributes();
    setCurrentDetails(describeCart(this.state, this.policy));
    if (this.state.outbox.length === 0) return;
    const batch = this.state.outbox;
    this.state.outbox = [];
    const results = await Promise.allSettled(batch.map((event) => this.metrics.recordMetric(event)));
    const failed = batch.filter((_, i) => results[i]!.status === 'rejected');
    // Kept for the next flush: a metric is never dropped because the store hiccuped.
    if (failed.length > 0) this.state.outbox = [...failed, ...this.state.outbox];
  }

  private syncSearchAttributes(): void {
    const state = this.state;
    const wanted = wantedSearchAttributes(state);
    const had = state.searchAttributes;
    const changes: SearchAttributeUpdatePair[] = [];
    if (wanted.shop !== had.shop) changes.push({ key: CartShop, value: wanted.shop });
    if (wanted.stage !== had.stage) changes.push({ key: CartStage, value: wanted.stage });
    if (wanted.segment !== had.segment) changes.push({ key: CartSegment, value: wanted.segment });
    if (wanted.value !== had.value) changes.push({ key: CartValue, value: wanted.value });
    if (wanted.currency !== had.currency) changes.push({ key: CartCurrency, value: wanted.currency });
    if (wanted.nextTouch !== had.nextTouch) changes.push({ key: CartNextTouch, value: wanted.nextTouch });
    if (wanted.outcome !== had.outcome) changes.push({ key: CartOutcome, value: wanted.outcome });
    if (changes.length === 0) return;
    upsertSearchAttributes(changes);
    state.searchAttributes = wanted;
  }
}

/** The search attributes the cart should show now; value and currency stay once priced. */
function wantedSearchAttributes(state: CartState): SearchAttributeValues {
  const snapshot = state.snapshot;
  const priced = state.stage !== 'watching' && snapshot !== null && isDecimal(snapshot.totalPrice);
  return {
    shop: state.shop,
    stage: state.stage,
    segment: state.segment,
    value: priced ? Number(snapshot.totalPrice) : state.searchAttributes.value,
    currency: priced ? snapshot.currency : state.searchAttributes.currency,
    nextTouch: state.stage === 'sequence' ? state.touches.length + 1 : null,
    outcome: state.outcome,
  };
}

/**
 * The activity ran out of its schedule-to-close: either a timeout as such, or (when the next
 * retry would not fit) the last attempt's transient failure with retry state TIMEOUT.
 */
function gaveUpInTime(err: unknown): boolean {
  return (
    err instanceof ActivityFailure && (err.retryState === 'TIMEOUT' || err.cause instanceof TimeoutFailure)
  );
}

/** The `ApplicationFailure.type` a vendor activity failed with, if any. */
function failureType(err: unknown): string | null {
  if (err instanceof ActivityFailure && err.cause instanceof ApplicationFailure)
    return err.cause.type ?? null;
  return null;
}
