import assert from 'node:assert/strict';
import { minTouchGapMs, sendTimeDecision, type SendTime } from '../src/workflows/cart-recovery/send-time';
import { codeToRevoke, reusableCode, attributedTouch } from '../src/workflows/cart-recovery/questions';
import type { CartState, IssuedCode } from '../src/workflows/cart-recovery/state';
import type { TouchRecord } from '../src/workflows/messages';
import { DEFAULT_POLICY, policyProblems } from '../src/workflows/policy';

const HOUR = 3_600_000;
/** Default delays (1 h, 6 h, 24 h, 72 h after the last activity), gap 4 h, quiet 21:00 to 08:00. */
const policy = DEFAULT_POLICY;
const activity = Date.parse('2026-03-02T10:00:00Z');
const at = (hours: number) => activity + hours * HOUR;
const iso = (hours: number) => new Date(at(hours)).toISOString();
const sent = (touch: number, hours: number, over: Partial<TouchRecord> = {}): TouchRecord => ({
  touch,
  sentAt: iso(hours),
  discountPercent: 10,
  code: null,
  ...over,
});
const cart = (touches: TouchRecord[], codes: IssuedCode[] = []): CartState =>
  ({ lastActivityAt: iso(0), touches, codes }) as unknown as CartState;
const code = (touch: number, over: Partial<IssuedCode> = {}): IssuedCode => ({
  touch,
  id: `gid://shopify/DiscountCodeNode/${touch}`,
  code: `CR-${touch}`,
  expiresAt: iso(touch * 10 + 48),
  revoked: false,
  percent: 10,
  ...over,
});

describe('send-time decision (pure, table-driven)', function () {
  const cases: [string, TouchRecord[], number, number, string, SendTime][] = [
    ['touch 1 on time (11:00 UTC)', [], 1, 1, 'UTC', { kind: 'send', touch: 1, skipped: [] }],
    ['touch 2 on time', [sent(1, 1)], 2, 6, 'UTC', { kind: 'send', touch: 2, skipped: [] }],
    [
      'worker back 26 h later: touches 2 and 3 overdue, only 3 goes out',
      [sent(1, 1)],
      2,
      26,
      'UTC',
      { kind: 'send', touch: 3, skipped: [2] },
    ],
    [
      'worker back after everything was due: only the last touch, 4',
      [sent(1, 1)],
      2,
      80,
      'UTC',
      { kind: 'send', touch: 4, skipped: [2, 3] },
    ],
    [
      'due inside the gap after the previous email: waits for the gap',
      [sent(1, 4)],
      2,
      6,
      'UTC',
      { kind: 'wait', until: at(8), why: 'minimum gap' },
    ],
    [
      'overdue at 23:00 UTC: waits for 08:00, not now',
      [sent(1, 1)],
      2,
      13,
      'UTC',
      { kind: 'wait', until: Date.parse('2026-03-03T08:00:00Z'), why: 'quiet hours' },
    ],
    [
      'the gap ends at night: waits for 08:00',
      [sent(1, 9)],
      2,
      10,
      'UTC',
      { kind: 'wait', until: Date.parse('2026-03-03T08:00:00Z'), why: 'minimum gap' },
    ],
    [
      'quiet hours of the recipient zone (16:00 UTC is 01:00 in Tokyo)',
      [sent(1, 1)],
      2,
      6,
      'Asia/Tokyo',
      { kind: 'wait', until: Date.parse('2026-03-02T23:00:00Z'), why: 'quiet hours' },
    ],
    [
      'a skipped touch does not count for the gap',
      [sent(1, 1), sent(2, 26, { skipped: true })],
      3,
      27,
      'UTC',
      { kind: 'send', touch: 3, skipped: [] },
    ],
  ];
  for (const [name, touches, touch, hours, zone, expected] of cases)
    it(`sendTimeDecision, ${name}`, () =>
      assert.deepEqual(sendTimeDecision(cart(touches), policy, touch, at(hours), zone), expected));

  it('minTouchGapMs: the setting, or half the smallest planned gap for carts from before it', () => {
    assert.equal(minTouchGapMs(policy), 4 * HOUR);
    const { minTouchGapMs: _, ...old } = policy;
    assert.equal(minTouchGapMs(old), 2.5 * HOUR);
  });

  it('policyProblems: a gap larger than the planned one or negative is refused', () => {
    assert.deepEqual(policyProblems({ ...policy, minTouchGapMs: 6 * HOUR }), [
      'minTouchGapMs cannot exceed the smallest gap between planned touches (touchDelaysMs)',
    ]);
    assert.deepEqual(policyProblems({ ...policy, minTouchGapMs: -1 }), ['minTouchGapMs cannot be negative']);
  });
});

describe('code lifecycle questions (pure, table-driven)', function () {
  const reuse: [string, IssuedCode[], number, number | null][] = [
    ['no code yet', [], 10, null],
    ['its own live code, same percent', [code(2)], 10, 2],
    ['its own code was revoked', [code(2, { revoked: true })], 10, null],
    ['its own code for another percent', [code(2, { percent: 15 })], 10, null],
    ['its own code with less than half its validity left', [code(2, { expiresAt: iso(40) })], 10, null],
    ['another touch code only', [code(1)], 10, null],
  ];
  for (const [name, codes, percent, expected] of reuse)
    it(`reusableCode for touch 2, ${name}: ${expected}`, () =>
      assert.equal(reusableCode(cart([], codes), policy, 2, percent, at(20))?.touch ?? null, expected));

  const revoke: [string, TouchRecord[], IssuedCode[], number | null][] = [
    ['touch 2 next, touch 1 sent: its code stays live', [sent(1, 1)], [code(1)], null],
    ['touch 3 next: touch 1 code goes, touch 2 stays', [sent(1, 1), sent(2, 6)], [code(1), code(2)], 1],
    [
      'touch 3 sent after touch 2 was skipped: touch 1 code stays until touch 3 was accepted',
      [sent(1, 1), sent(2, 26, { skipped: true })],
      [code(1)],
      null,
    ],
    ['already revoked', [sent(1, 1), sent(2, 6)], [code(1, { revoked: true }), code(2)], null],
  ];
  for (const [name, touches, codes, expected] of revoke)
    it(`codeToRevoke, ${name}: ${expected}`, () =>
      assert.equal(codeToRevoke(cart(touches, codes))?.touch ?? null, expected));

  it('attributedTouch never credits a skipped touch', () => {
    const state = cart([sent(1, 1), sent(2, 26, { skipped: true })]);
    assert.equal(attributedTouch(state, { ...policy, attributionWindowMs: 100 * HOUR }, iso(27)), 1);
  });
});
