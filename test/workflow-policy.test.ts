import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config';
import { DEFAULT_POLICY, DEMO_POLICY, policyProblems } from '../src/workflows/policy';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    assert.ok(err instanceof ConfigError, `expected a ConfigError, got ${String(err)}`);
    return err.problems;
  }
  assert.fail('expected the configuration to be refused');
}

describe('recovery policy settings (RECOVERY_*)', function () {
  it('gives the documented defaults with no RECOVERY_* variable set', function () {
    const config = loadConfig({});
    assert.equal(config.recovery.preset, undefined);
    assert.deepEqual(config.recovery.policyFor(false), DEFAULT_POLICY);
    assert.deepEqual(config.recovery.policyFor(true), DEMO_POLICY, 'the local sandbox runs the demo');
    assert.deepEqual(policyProblems(DEFAULT_POLICY), []);
    assert.deepEqual(policyProblems(DEMO_POLICY), []);
  });

  it('lays each set variable over the chosen preset', function () {
    const config = loadConfig({
      RECOVERY_POLICY: 'default',
      RECOVERY_ABANDON_AFTER: '30m',
      RECOVERY_TOUCH_DELAYS: '30m,4h,1d',
      RECOVERY_DISCOUNTS_WELCOME: '5,10,15',
      RECOVERY_DISCOUNTS_LOYALTY: '0,5,10',
      RECOVERY_DISCOUNTS_PREMIUM: '0,0,10',
      RECOVERY_PREMIUM_THRESHOLDS: 'USD:150,EUR:140',
      RECOVERY_QUIET_HOURS: '22-7',
      RECOVERY_SHOP_TIMEZONE: 'Europe/Berlin',
      RECOVERY_REQUIRE_MARKETING_CONSENT: 'false',
      RECOVERY_CONTROL_GROUP_PERCENT: '10',
    });
    const policy = config.recovery.policyFor(true);
    assert.equal(policy.abandonAfterMs, 30 * 60_000, 'an explicit preset wins over the sandbox demo');
    assert.deepEqual(policy.touchDelaysMs, [30 * 60_000, 4 * 3_600_000, 86_400_000]);
    assert.deepEqual(policy.discountLadders.premium, [0, 0, 10]);
    assert.deepEqual(policy.premiumThresholds, { USD: '150', EUR: '140' });
    assert.deepEqual(policy.quietHours, { startHour: 22, endHour: 7 });
    assert.equal(policy.shopTimezone, 'Europe/Berlin');
    assert.equal(policy.requireMarketingConsent, false);
    assert.equal(policy.controlGroupPercent, 10);
    assert.equal(policy.cooldownMs, DEFAULT_POLICY.cooldownMs, 'unset values keep the preset');
  });

  it('names the variable and what it expects for a malformed value', function () {
    const problems = problemsOf({ RECOVERY_QUIET_HOURS: '9pm-8am', RECOVERY_CONTROL_GROUP_PERCENT: '150' });
    assert.ok(
      problems.some((p) => p.startsWith('RECOVERY_QUIET_HOURS: expected local hours start-end such as 21-8')),
    );
    assert.ok(
      problems.some((p) =>
        p.startsWith('RECOVERY_CONTROL_GROUP_PERCENT: expected a whole percentage 0..100'),
      ),
    );
  });

  it('refuses a policy whose parts do not fit together, naming the variable', function () {
    const problems = problemsOf({ RECOVERY_POLICY: 'default', RECOVERY_DISCOUNTS_WELCOME: '10,20' });
    assert.deepEqual(problems, [
      'RECOVERY_DISCOUNTS_WELCOME: discountLadders.welcome has 2 steps for 4 touches (with the default preset)',
    ]);
    const early = problemsOf({ RECOVERY_POLICY: 'default', RECOVERY_TOUCH_DELAYS: '30m,6h,24h,72h' });
    assert.ok(
      early[0]!.startsWith(
        'RECOVERY_TOUCH_DELAYS: the first touch delay cannot be shorter than abandonAfterMs',
      ),
    );
  });

  it('keeps the minimum gap within the planned one: the preset adapts, an explicit one is refused', function () {
    const close = loadConfig({ RECOVERY_POLICY: 'default', RECOVERY_TOUCH_DELAYS: '1h,3h,1d,3d' });
    assert.equal(
      close.recovery.policyFor(false).minTouchGapMs,
      2 * 3_600_000,
      'the 4 h preset gap shrinks to 2 h',
    );
    assert.deepEqual(
      problemsOf({
        RECOVERY_POLICY: 'default',
        RECOVERY_TOUCH_DELAYS: '1h,3h,1d,3d',
        RECOVERY_MIN_TOUCH_GAP: '3h',
      }),
      [
        'RECOVERY_MIN_TOUCH_GAP: minTouchGapMs cannot exceed the smallest gap between planned touches (touchDelaysMs) (with the default preset)',
      ],
    );
  });

  it('checks the demo preset too when no preset is chosen', function () {
    const problems = problemsOf({ RECOVERY_ABANDON_AFTER: '30m' }); // fine for hours, not for the demo's minutes
    assert.deepEqual(problems, [
      'RECOVERY_TOUCH_DELAYS: the first touch delay cannot be shorter than abandonAfterMs (no email before abandonment) (with the demo preset)',
    ]);
  });
});
