/**
 * Loading: validate the environment against the variables table, check the settings that
 * depend on each other, and build the typed `Config`. A wrong or missing value stops start-up
 * with a message naming the variable and what it expects; secrets never appear in messages or
 * in `describeConfig`.
 */
import path from 'node:path';
import { variables, type Variable, type VariableName } from './variables';
import { recoverySettings, vendorSettings } from './views';

export class ConfigError extends Error {
  constructor(readonly problems: string[]) {
    super(`Invalid configuration:\n${problems.map((p) => `  - ${p}`).join('\n')}`);
    this.name = 'ConfigError';
  }
}

type Env = Record<string, string | undefined>;

function read(env: Env) {
  const problems: string[] = [];
  const values: Record<string, unknown> = {};
  for (const [name, spec] of Object.entries(variables) as [VariableName, Variable][]) {
    const raw = env[name];
    const given = raw !== undefined && raw.trim() !== '';
    if (!given && spec.default === undefined) {
      values[name] = undefined;
      continue;
    }
    const result = spec.schema.safeParse(given ? raw : spec.default);
    if (result.success) values[name] = result.data;
    else {
      const expected = result.error.issues.map((i) => i.message).join('; ');
      // The offending value is shown only for non-secrets.
      const shown = spec.secret ? '' : ` (got "${raw}")`;
      problems.push(`${name}: ${expected}${shown}`);
    }
  }
  return { problems, values };
}

export function loadConfig(env: Env = process.env) {
  const { problems, values: v } = read(env);
  const get = <T>(name: VariableName) => v[name] as T;

  const temporalAddress = get<string | undefined>('TEMPORAL_ADDRESS');
  const apiKey = get<string | undefined>('TEMPORAL_API_KEY');
  const clientCertPath = get<string | undefined>('TEMPORAL_TLS_CLIENT_CERT_PATH');
  const clientKeyPath = get<string | undefined>('TEMPORAL_TLS_CLIENT_KEY_PATH');
  if (Boolean(clientCertPath) !== Boolean(clientKeyPath)) {
    problems.push(
      'TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH: expected both or neither (mTLS needs the certificate and its key)',
    );
  }
  if ((apiKey || clientCertPath) && !temporalAddress) {
    problems.push(
      'TEMPORAL_ADDRESS: expected host:port of the Temporal cluster when an API key or client certificate is set',
    );
  }
  const webhookTimeoutMs = get<number | undefined>('WEBHOOK_TEMPORAL_TIMEOUT');
  if (webhookTimeoutMs !== undefined && webhookTimeoutMs >= 5_000) {
    problems.push(
      `WEBHOOK_TEMPORAL_TIMEOUT: expected less than 5s (Shopify gives up after 5 s and counts a failure; got "${env.WEBHOOK_TEMPORAL_TIMEOUT}")`,
    );
  }
  const vendors = vendorSettings(get, problems);
  const recovery = recoverySettings(get, problems);
  const nodeEnv = get<'development' | 'production' | 'test'>('NODE_ENV');
  if (nodeEnv === 'production' && !get<string | undefined>('LINK_SIGNING_SECRET')) {
    problems.push(
      'LINK_SIGNING_SECRET: expected a random secret of at least 32 characters in production (it signs the links in emails; e.g. `openssl rand -hex 32`)',
    );
  }
  if (Boolean(get('DASHBOARD_USER')) !== Boolean(get('DASHBOARD_PASSWORD'))) {
    problems.push('DASHBOARD_USER and DASHBOARD_PASSWORD: expected both or neither (basic auth needs both)');
  }
  if (get<string | undefined>('DASHBOARD_AUTH') === 'local' && nodeEnv !== 'development') {
    problems.push(
      `DASHBOARD_AUTH: "local" is allowed only with NODE_ENV=development; set DASHBOARD_TOKEN or DASHBOARD_USER/DASHBOARD_PASSWORD (got NODE_ENV=${nodeEnv})`,
    );
  }
  if (problems.length > 0) throw new ConfigError(problems);

  const dataDir = path.resolve(get<string>('DATA_DIR'));
  const tlsFlag = get<boolean | undefined>('TEMPORAL_TLS');
  const tlsEnabled = tlsFlag ?? Boolean(apiKey || clientCertPath);
  const taskQueue = get<string>('TEMPORAL_TASK_QUEUE');

  return {
    env: get<'development' | 'production' | 'test'>('NODE_ENV'),
    logLevel: get<'debug' | 'info' | 'warn' | 'error'>('LOG_LEVEL'),
    dataDir,
    database: {
      /** PostgreSQL URL; undefined means SQLite at `sqliteFile`. */
      url: get<string | undefined>('DATABASE_URL'),
      sqliteFile: path.join(dataDir, 'cart-recovery.sqlite'),
    },
    temporal: {
      /** Undefined: the local dev server (started by `npm start`). */
      address: temporalAddress,
      namespace: get<string>('TEMPORAL_NAMESPACE'),
      apiKey,
      tls: tlsEnabled
        ? {
            clientCertPath,
            clientKeyPath,
            serverCaCertPath: get<string | undefined>('TEMPORAL_TLS_SERVER_CA_CERT_PATH'),
            serverName: get<string | undefined>('TEMPORAL_TLS_SERVER_NAME'),
          }
        : undefined,
      taskQueue,
      uiUrl: get<string>('TEMPORAL_UI_URL'),
      /** Payload encryption keys, the sealing key first; undefined: no encryption. */
      payloadKeys: get<{ id: string; key: Buffer }[] | undefined>('TEMPORAL_PAYLOAD_KEYS'),
      dev: {
        port: get<number>('TEMPORAL_DEV_PORT'),
        uiPort: get<number>('TEMPORAL_DEV_UI_PORT'),
        dbFile: path.join(dataDir, 'temporal.sqlite'),
        cliPath: get<string | undefined>('TEMPORAL_CLI_PATH'),
        testServerPath: get<string | undefined>('TEMPORAL_TEST_SERVER_PATH'),
      },
    },
    worker: {
      maxCachedWorkflows: get<number>('WORKER_MAX_CACHED_WORKFLOWS'),
      maxConcurrentWorkflowTaskExecutions: get<number>('WORKER_MAX_CONCURRENT_WORKFLOW_TASKS'),
      maxConcurrentActivityTaskExecutions: get<number>('WORKER_MAX_CONCURRENT_ACTIVITIES'),
      shutdownGraceMs: get<number>('WORKER_SHUTDOWN_GRACE'),
      bundlePath: path.resolve(get<string>('WORKFLOW_BUNDLE_PATH')),
    },
    pacing: {
      klaviyo: get<number>('KLAVIYO_MAX_PER_SECOND'),
      klaviyoProfiles: get<number>('KLAVIYO_PROFILES_MAX_PER_SECOND'),
      shopify: get<number>('SHOPIFY_MAX_PER_SECOND'),
      gorgias: get<number>('GORGIAS_MAX_PER_SECOND'),
    },
    vendors: vendors!,
    /** The recovery policy passed to every new cart workflow (see recoverySettings). */
    recovery,
    api: {
      port: get<number>('PORT'),
      publicUrl: get<string>('PUBLIC_URL').replace(/\/$/, ''),
    },
    relay: {
      /** Secrets for shops without their own entry in `shopSecrets`. */
      secrets: get<string[] | undefined>('SHOPIFY_WEBHOOK_SECRET') ?? [],
      shopSecrets: get<Record<string, string[]> | undefined>('SHOPIFY_WEBHOOK_SHOP_SECRETS') ?? {},
      bodyLimitBytes: get<number>('WEBHOOK_BODY_LIMIT'),
      temporalTimeoutMs: get<number>('WEBHOOK_TEMPORAL_TIMEOUT'),
      dedupeRetentionMs: get<number>('WEBHOOK_DEDUPE_RETENTION'),
    },
    demoTraffic: {
      /** Undefined: decided by `npm start` (on in the local sandbox). */
      enabled: get<boolean | undefined>('DEMO_TRAFFIC'),
      shoppersPerMinute: get<number>('DEMO_TRAFFIC_RATE'),
    },
    metrics: {
      /** Undefined outside production: the development secret file in `linkSecretFile` is used. */
      linkSigningSecret: get<string | undefined>('LINK_SIGNING_SECRET'),
      linkSecretFile: path.join(dataDir, 'link-signing.secret'),
      linkTtlMs: get<number>('LINK_TTL'),
      /** The zone of the dashboard's days: METRICS_TIMEZONE, else the shop zone of the recovery policy. */
      timeZone: get<string | undefined>('METRICS_TIMEZONE') ?? recovery.policies.default.shopTimezone,
      engagementSync: {
        intervalMs: get<number>('ENGAGEMENT_SYNC_INTERVAL'),
        overlapMs: get<number>('ENGAGEMENT_SYNC_OVERLAP'),
        backfillMs: get<number>('ENGAGEMENT_SYNC_BACKFILL'),
      },
    },
    dashboard: {
      /** The explicit DASHBOARD_AUTH, or required when credentials are set or outside development. */
      auth:
        get<'required' | 'local' | 'disabled' | undefined>('DASHBOARD_AUTH') ??
        (get('DASHBOARD_TOKEN') || get('DASHBOARD_USER') || get('NODE_ENV') !== 'development'
          ? 'required'
          : 'local'),
      token: get<string | undefined>('DASHBOARD_TOKEN'),
      user: get<string | undefined>('DASHBOARD_USER'),
      password: get<string | undefined>('DASHBOARD_PASSWORD'),
    },
  };
}

export type Config = ReturnType<typeof loadConfig>;

/** A log-safe summary of the effective configuration: secrets are reported only as set/unset. */
export function describeConfig(env: Env = process.env): Record<string, string> {
  const out: Record<string, string> = {};
  for (const [name, spec] of Object.entries(variables) as [VariableName, Variable][]) {
    const raw = env[name];
    if (raw === undefined || raw === '') continue;
    out[name] = spec.secret ? '(set)' : raw;
  }
  return out;
}

/**
 * Load the configuration or stop the process with a readable message (no stack trace): the
 * entry points (`npm start`, the worker, the API) call this first.
 */
export function loadConfigOrExit(env: Env = process.env): Config {
  try {
    return loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) {
      console.error(`${err.message}\nFix the variables above (see "Settings" in README.md) and start again.`);
      process.exit(78); // EX_CONFIG
    }
    throw err;
  }
}
