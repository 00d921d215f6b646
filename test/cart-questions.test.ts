import assert from 'node:assert/strict';
import {
  attributedTouch,
  cartChangedSinceAbandonment,
  endedEarlyAfterAbandonment,
  notRecoverable,
  orderOutcome,
  stopKnown,
} from '../src/workflows/cart-recovery/questions';
import type { CartState } from '../src/workflows/cart-recovery/state';
import { DEFAULT_POLICY } from '../src/workflows/policy';

const HOUR = 3_600_000;
const policy = { ...DEFAULT_POLICY, attributionWindowMs: 24 * HOUR };
const base = {
  order: null,
  completedAt: null,
  deletedAt: null,
  touches: [],
  snapshot: null,
  abandonedAt: null,
  firstAbandonedAt: null,
  lastActivityAt: null,
  controlGroup: false,
  outcome: null,
  abandonedRecorded: false,
} as unknown as CartState;
const cart = (over: Partial<CartState>): CartState => ({ ...base, ...over });
const order = {
  orderId: '1',
  totalPrice: '10',
  currency: 'USD',
  checkoutToken: 't',
  cartToken: null,
  at: '',
};
const touch = (n: number, sentAt: string) => ({ touch: n, sentAt, discountPercent: 0, code: null });
const line = (quantity: number) => ({ key: 'k', quantity }) as never;
const snapshot = (email: string | null, lines: unknown[]) => ({ email, lineItems: lines }) as never;

describe('cart questions (pure, table-driven)', function () {
  const stops: [string, Partial<CartState>, boolean][] = [
    ['nothing known', {}, false],
    ['an order', { order: { ...order, at: '2026-01-01T00:00:00Z' } }, true],
    ['completed at checkout', { completedAt: '2026-01-01T00:00:00Z' }, true],
    ['deleted', { deletedAt: '2026-01-01T00:00:00Z' }, true],
  ];
  for (const [name, over, expected] of stops)
    it(`stopKnown, ${name}: ${expected}`, () => assert.equal(stopKnown(cart(over)), expected));

  const credit: [string, string[], string, number | null][] = [
    ['order before any touch', ['2026-01-01T02:00:00Z'], '2026-01-01T01:00:00Z', null],
    ['order after touch 2', ['2026-01-01T02:00:00Z', '2026-01-01T08:00:00Z'], '2026-01-01T09:00:00Z', 2],
    ['order at the send instant', ['2026-01-01T02:00:00Z'], '2026-01-01T02:00:00Z', 1],
    ['order after the window closed', ['2026-01-01T02:00:00Z'], '2026-01-03T02:00:00Z', null],
  ];
  for (const [name, sent, at, expected] of credit)
    it(`attributedTouch, ${name}: ${expected}`, () =>
      assert.equal(
        attributedTouch(cart({ touches: sent.map((s, i) => touch(i + 1, s)) }), policy, at),
        expected,
      ));

  const outcomes: [string, Partial<CartState>, string][] = [
    ['never abandoned', {}, 'converted_before_abandonment'],
    ['control group', { firstAbandonedAt: 'x', controlGroup: true }, 'control_group_recovered'],
    ['abandoned, no touch yet', { firstAbandonedAt: 'x' }, 'converted_before_first_touch'],
    ['after a touch', { firstAbandonedAt: 'x', touches: [touch(1, '2026-01-01T02:00:00Z')] }, 'recovered'],
  ];
  for (const [name, over, expected] of outcomes)
    it(`orderOutcome, ${name}: ${expected}`, () =>
      assert.equal(orderOutcome(cart(over), policy, '2026-01-01T03:00:00Z'), expected));

  const recoverable: [string, Partial<CartState>, string | null][] = [
    ['no snapshot', {}, 'no_email'],
    ['no address', { snapshot: snapshot(null, [line(1)]) }, 'no_email'],
    ['not an address', { snapshot: snapshot('nobody', [line(1)]) }, 'no_email'],
    ['no lines', { snapshot: snapshot('a@b.c', []) }, 'empty_cart'],
    ['only zero quantities', { snapshot: snapshot('a@b.c', [line(0)]) }, 'empty_cart'],
    ['an address and an item', { snapshot: snapshot('a@b.c', [line(1)]) }, null],
  ];
  for (const [name, over, expected] of recoverable)
    it(`notRecoverable, ${name}: ${expected}`, () => assert.equal(notRecoverable(cart(over)), expected));

  const changed: [string, string | null, string | null, boolean][] = [
    ['not abandoned', null, '2026-01-01T02:00:00Z', false],
    ['activity before abandonment', '2026-01-01T02:00:00Z', '2026-01-01T01:00:00Z', false],
    ['activity after abandonment', '2026-01-01T02:00:00Z', '2026-01-01T03:00:00Z', true],
  ];
  for (const [name, abandonedAt, lastActivityAt, expected] of changed)
    it(`cartChangedSinceAbandonment, ${name}: ${expected}`, () =>
      assert.equal(cartChangedSinceAbandonment(cart({ abandonedAt, lastActivityAt })), expected));

  const early: [string, Partial<CartState>, boolean][] = [
    [
      'capped after abandonment',
      { outcome: 'frequency_capped', abandonedRecorded: true, abandonedAt: 'x' },
      true,
    ],
    [
      'capped, order known',
      { outcome: 'frequency_capped', abandonedRecorded: true, abandonedAt: 'x', deletedAt: 'y' },
      false,
    ],
    [
      'not recovered (window already waited)',
      { outcome: 'not_recovered', abandonedRecorded: true, abandonedAt: 'x' },
      false,
    ],
    ['no email, never abandoned', { outcome: 'no_email' }, false],
  ];
  for (const [name, over, expected] of early)
    it(`endedEarlyAfterAbandonment, ${name}: ${expected}`, () =>
      assert.equal(endedEarlyAfterAbandonment(cart(over)), expected));
});
