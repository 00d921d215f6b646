/**
 * Per-component views of the settings: which vendors are live, the recovery policy of new carts,
 * and where the Temporal clients and links point.
 */
import {
  DEFAULT_POLICY,
  DEMO_POLICY,
  policyProblems,
  smallestTouchGapMs,
  type RecoveryPolicy,
} from '../workflows/policy';
import type { Config } from './load';
import type { VariableName } from './variables';

/**
 * Which vendors are live. A vendor is live when its credential is set and in the sandbox when
 * nothing of it is set; anything in between (a key without its domain, say) is a mistake that
 * must stop start-up rather than silently fall back to the sandbox.
 */
export function vendorSettings(get: <T>(name: VariableName) => T, problems: string[]) {
  const given = (...names: VariableName[]) => names.filter((n) => get<unknown>(n) !== undefined);
  const requireAll = (vendor: string, switches: VariableName[], required: VariableName[]) => {
    const set = given(...switches);
    if (set.length === 0) return false;
    for (const name of required) {
      if (get<unknown>(name) === undefined) {
        problems.push(
          `${name}: expected a value, because ${set.join(', ')} ${set.length > 1 ? 'are' : 'is'} set (${vendor} is half-configured; unset ${set.length > 1 ? 'them' : 'it'} to use the sandbox)`,
        );
      }
    }
    return true;
  };

  const klaviyoLive = requireAll(
    'Klaviyo',
    ['KLAVIYO_PRIVATE_API_KEY', 'KLAVIYO_BASE_URL', 'KLAVIYO_VIP_SEGMENT_ID'],
    ['KLAVIYO_PRIVATE_API_KEY'],
  );
  const shopifyLive = requireAll(
    'Shopify',
    ['SHOPIFY_ADMIN_ACCESS_TOKEN', 'SHOPIFY_SHOP_DOMAIN', 'SHOPIFY_ADMIN_BASE_URL', 'DISCOUNT_CODE_SECRET'],
    ['SHOPIFY_SHOP_DOMAIN', 'SHOPIFY_ADMIN_ACCESS_TOKEN', 'DISCOUNT_CODE_SECRET'],
  );
  const gorgiasLive = requireAll(
    'Gorgias',
    ['GORGIAS_API_KEY', 'GORGIAS_DOMAIN', 'GORGIAS_USERNAME', 'GORGIAS_BASE_URL'],
    ['GORGIAS_DOMAIN', 'GORGIAS_USERNAME', 'GORGIAS_API_KEY'],
  );
  if (problems.length > 0) return undefined;

  const shopDomain = get<string>('SHOPIFY_SHOP_DOMAIN');
  const gorgiasDomain = get<string>('GORGIAS_DOMAIN');
  const trimSlash = (u: string) => u.replace(/\/+$/, '');
  return {
    httpTimeoutMs: get<number>('VENDOR_HTTP_TIMEOUT'),
    emailLocale: get<string>('EMAIL_LOCALE'),
    klaviyo: {
      recoveryMetric: get<string>('KLAVIYO_RECOVERY_METRIC'),
      vipClvThreshold: get<number | undefined>('KLAVIYO_VIP_CLV_THRESHOLD') ?? null,
      vipSegmentId: get<string | undefined>('KLAVIYO_VIP_SEGMENT_ID') ?? null,
      /** Null: the sandbox. */
      live: klaviyoLive
        ? {
            privateApiKey: get<string>('KLAVIYO_PRIVATE_API_KEY'),
            baseUrl: trimSlash(get<string | undefined>('KLAVIYO_BASE_URL') ?? 'https://a.klaviyo.com'),
          }
        : null,
    },
    shopify: {
      apiVersion: get<string>('SHOPIFY_API_VERSION'),
      /** Null: the sandbox. */
      live: shopifyLive
        ? {
            shopDomain,
            accessToken: get<string>('SHOPIFY_ADMIN_ACCESS_TOKEN'),
            baseUrl: trimSlash(get<string | undefined>('SHOPIFY_ADMIN_BASE_URL') ?? `https://${shopDomain}`),
            discountCodeSecret: get<string>('DISCOUNT_CODE_SECRET'),
          }
        : null,
    },
    gorgias: {
      /** Null: the sandbox. */
      live: gorgiasLive
        ? {
            domain: gorgiasDomain,
            username: get<string>('GORGIAS_USERNAME'),
            apiKey: get<string>('GORGIAS_API_KEY'),
            baseUrl: trimSlash(
              get<string | undefined>('GORGIAS_BASE_URL') ?? `https://${gorgiasDomain}.gorgias.com`,
            ),
          }
        : null,
    },
  };
}

/** The variable a `policyProblems` message is about, found by the policy field it names. */
const POLICY_FIELD_VARIABLES: [string, VariableName][] = [
  ['minTouchGapMs', 'RECOVERY_MIN_TOUCH_GAP'],
  ['first touch delay', 'RECOVERY_TOUCH_DELAYS'],
  ['touchDelaysMs', 'RECOVERY_TOUCH_DELAYS'],
  ['abandonAfterMs', 'RECOVERY_ABANDON_AFTER'],
  ['discountLadders.welcome', 'RECOVERY_DISCOUNTS_WELCOME'],
  ['discountLadders.loyalty', 'RECOVERY_DISCOUNTS_LOYALTY'],
  ['discountLadders.premium', 'RECOVERY_DISCOUNTS_PREMIUM'],
  ['quietHours', 'RECOVERY_QUIET_HOURS'],
  ['discountValidityMs', 'RECOVERY_DISCOUNT_VALIDITY'],
  ['attributionWindowMs', 'RECOVERY_ATTRIBUTION_WINDOW'],
  ['cooldownMs', 'RECOVERY_COOLDOWN'],
  ['timerJitterMs', 'RECOVERY_TIMER_JITTER'],
  ['controlGroupPercent', 'RECOVERY_CONTROL_GROUP_PERCENT'],
  ['continueAsNewAfterEvents', 'RECOVERY_CONTINUE_AS_NEW_AFTER_EVENTS'],
];

/**
 * The recovery policy: a preset (default or demo) with every RECOVERY_* value that is set laid
 * over it. Both presets are built and checked, so that a value that only breaks the demo (for
 * instance RECOVERY_ABANDON_AFTER=2h against the demo's minute-long touch delays) is reported
 * at start-up and not by the first cart. `preset` undefined: the caller decides (demo in the
 * local sandbox).
 */
export function recoverySettings(get: <T>(name: VariableName) => T, problems: string[]) {
  const overrides: Partial<RecoveryPolicy> = {};
  const set = <K extends keyof RecoveryPolicy>(key: K, name: VariableName) => {
    const value = get<RecoveryPolicy[K] | undefined>(name);
    if (value !== undefined) overrides[key] = value;
  };
  set('abandonAfterMs', 'RECOVERY_ABANDON_AFTER');
  set('touchDelaysMs', 'RECOVERY_TOUCH_DELAYS');
  set('discountValidityMs', 'RECOVERY_DISCOUNT_VALIDITY');
  set('premiumThresholds', 'RECOVERY_PREMIUM_THRESHOLDS');
  set('ticketThresholds', 'RECOVERY_TICKET_THRESHOLDS');
  set('requireMarketingConsent', 'RECOVERY_REQUIRE_MARKETING_CONSENT');
  set('cooldownMs', 'RECOVERY_COOLDOWN');
  set('attributionWindowMs', 'RECOVERY_ATTRIBUTION_WINDOW');
  set('quietHours', 'RECOVERY_QUIET_HOURS');
  set('shopTimezone', 'RECOVERY_SHOP_TIMEZONE');
  set('controlGroupPercent', 'RECOVERY_CONTROL_GROUP_PERCENT');
  set('timerJitterMs', 'RECOVERY_TIMER_JITTER');
  set('minTouchGapMs', 'RECOVERY_MIN_TOUCH_GAP');
  set('continueAsNewAfterEvents', 'RECOVERY_CONTINUE_AS_NEW_AFTER_EVENTS');
  const ladders = {
    welcome: get<number[] | undefined>('RECOVERY_DISCOUNTS_WELCOME'),
    loyalty: get<number[] | undefined>('RECOVERY_DISCOUNTS_LOYALTY'),
    premium: get<number[] | undefined>('RECOVERY_DISCOUNTS_PREMIUM'),
  };
  const build = (base: RecoveryPolicy): RecoveryPolicy => {
    const policy = {
      ...base,
      ...overrides,
      discountLadders: {
        welcome: ladders.welcome ?? base.discountLadders.welcome,
        loyalty: ladders.loyalty ?? base.discountLadders.loyalty,
        premium: ladders.premium ?? base.discountLadders.premium,
      },
    };
    // The preset's gap never exceeds the planned one of touch delays set closer together; only
    // an explicit RECOVERY_MIN_TOUCH_GAP that does is an error.
    if (overrides.minTouchGapMs === undefined && policy.minTouchGapMs !== undefined) {
      policy.minTouchGapMs = Math.min(policy.minTouchGapMs, smallestTouchGapMs(policy.touchDelaysMs));
    }
    return policy;
  };
  const preset = get<'default' | 'demo' | undefined>('RECOVERY_POLICY');
  const policies = { default: build(DEFAULT_POLICY), demo: build(DEMO_POLICY) };
  for (const name of preset ? [preset] : (['default', 'demo'] as const)) {
    for (const problem of policyProblems(policies[name])) {
      const variable = POLICY_FIELD_VARIABLES.find(([field]) => problem.includes(field))?.[1] ?? 'RECOVERY_*';
      problems.push(`${variable}: ${problem} (with the ${name} preset)`);
    }
  }
  return {
    preset,
    policies,
    /** The policy for new carts: the configured preset, else demo in the local sandbox. */
    policyFor(localSandbox: boolean): RecoveryPolicy {
      return policies[preset ?? (localSandbox ? 'demo' : 'default')];
    },
  };
}

/** Address the clients connect to: the configured cluster or the local dev server. */
export function temporalAddressOf(config: Config): string {
  return config.temporal.address ?? `127.0.0.1:${config.temporal.dev.port}`;
}

/**
 * The Temporal Web UI: TEMPORAL_UI_URL with a cluster, the local dev server's UI
 * (TEMPORAL_DEV_UI_PORT) when `npm start` runs one.
 */
export function temporalUiUrlOf(config: Config): string {
  return config.temporal.address
    ? config.temporal.uiUrl.replace(/\/$/, '')
    : `http://localhost:${config.temporal.dev.uiPort}`;
}
