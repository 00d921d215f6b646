/**
 * Every environment variable the system reads, declared once: its zod schema, default, whether
 * it is a secret and its one-line doc. The README's settings table (`npm run docs`) and the
 * docker-compose test read this same list, so a variable cannot be documented or wired without
 * being known here. Value formats live in ./schemas.ts, secret-strength rules in ./secrets.ts.
 */
import { z } from 'zod';
import {
  bool,
  byteSize,
  csv,
  duration,
  durationList,
  gorgiasSubdomain,
  hostPort,
  locale,
  moneyByCurrency,
  myshopifyDomain,
  nonEmpty,
  percentList,
  port,
  positiveInt,
  positiveNumber,
  quietHours,
  shopifyApiVersion,
  timezone,
  url,
  wholePercent,
} from './schemas';
import {
  dashboardPassword,
  dashboardToken,
  discountCodeSecret,
  klaviyoPrivateApiKey,
  linkSigningSecret,
  payloadKeys,
  shopSecrets,
} from './secrets';

export interface Variable {
  schema: z.ZodType;
  default?: string;
  secret?: boolean;
  doc: string;
}

/**
 * Every environment variable the system reads. Keep the docs short; the README renders them.
 * Defaults are the embedded local defaults: no vendor accounts, a local dev server.
 */
export const variables = {
  NODE_ENV: {
    schema: z.enum(['development', 'production', 'test']),
    default: 'development',
    doc: 'production loads the prebuilt workflow bundle; development bundles on the fly.',
  },
  LOG_LEVEL: {
    schema: z.enum(['debug', 'info', 'warn', 'error']),
    default: 'info',
    doc: 'Minimum level of the JSON logs.',
  },
  DATA_DIR: {
    schema: nonEmpty,
    default: '.data',
    doc: 'Folder for local state: the dev server SQLite file, the metrics database, the sandbox outbox, dead letters.',
  },

  DATABASE_URL: {
    schema: z.string().regex(/^postgres(ql)?:\/\/.+/, 'expected a postgres:// connection URL'),
    secret: true,
    doc: "PostgreSQL for the app's own data (relay bookkeeping, metrics). Unset: SQLite in DATA_DIR.",
  },

  // Temporal connection (names follow @temporalio/envconfig)
  TEMPORAL_ADDRESS: {
    schema: hostPort,
    doc: 'Temporal frontend host:port. Unset: `npm start` runs a local dev server on localhost:7233.',
  },
  TEMPORAL_NAMESPACE: { schema: nonEmpty, default: 'default', doc: 'Temporal namespace.' },
  TEMPORAL_API_KEY: { schema: nonEmpty, secret: true, doc: 'API key (Temporal Cloud). Implies TLS.' },
  TEMPORAL_TLS: {
    schema: bool,
    doc: 'Force TLS on or off (default: on when an API key or client certificate is set).',
  },
  TEMPORAL_TLS_CLIENT_CERT_PATH: { schema: nonEmpty, doc: 'mTLS client certificate (PEM file).' },
  TEMPORAL_TLS_CLIENT_KEY_PATH: {
    schema: nonEmpty,
    secret: true,
    doc: 'mTLS client private key (PEM file).',
  },
  TEMPORAL_TLS_SERVER_CA_CERT_PATH: {
    schema: nonEmpty,
    doc: 'CA certificate that signed the server certificate (PEM file), if not a public CA.',
  },
  TEMPORAL_TLS_SERVER_NAME: {
    schema: nonEmpty,
    doc: 'Server name to verify in the TLS handshake (SNI override).',
  },
  TEMPORAL_PAYLOAD_KEYS: {
    schema: payloadKeys,
    secret: true,
    doc: 'Encrypts every payload (cart, email, signals, activity results) before it reaches Temporal: `<key id>:<base64 of 32 random bytes>`, comma-separated, the active key first and retired keys after it. Unset: payloads are plain JSON. Search attributes stay readable. See "Encrypting payloads".',
  },
  TEMPORAL_TASK_QUEUE: {
    schema: nonEmpty,
    default: 'cart-recovery',
    doc: 'Task queue of the workflows; vendor activities use <queue>-klaviyo, -shopify, -gorgias.',
  },
  TEMPORAL_UI_URL: {
    schema: url,
    default: 'http://localhost:8233',
    doc: 'Temporal Web UI base URL, for links from the dashboard and logs.',
  },

  // Local dev server (only when TEMPORAL_ADDRESS is unset)
  TEMPORAL_DEV_PORT: {
    schema: port,
    default: '7233',
    doc: 'gRPC port of the local dev server started by `npm start`.',
  },
  TEMPORAL_DEV_UI_PORT: { schema: port, default: '8233', doc: 'Web UI port of the local dev server.' },
  TEMPORAL_CLI_PATH: {
    schema: nonEmpty,
    doc: 'Path of a `temporal` CLI to use instead of the project-installed one.',
  },
  TEMPORAL_TEST_SERVER_PATH: {
    schema: nonEmpty,
    doc: 'Path of a time-skipping test server to use instead of the project-installed one.',
  },

  // Worker
  WORKER_MAX_CACHED_WORKFLOWS: {
    schema: positiveInt,
    default: '1000',
    doc: 'Sticky workflow cache size (memory versus replay cost).',
  },
  WORKER_MAX_CONCURRENT_WORKFLOW_TASKS: {
    schema: positiveInt,
    default: '40',
    doc: 'Workflow tasks executed at once.',
  },
  WORKER_MAX_CONCURRENT_ACTIVITIES: {
    schema: positiveInt,
    default: '50',
    doc: 'Activities executed at once per task queue.',
  },
  WORKER_SHUTDOWN_GRACE: {
    schema: duration,
    default: '30s',
    doc: 'How long running activities get to finish on SIGINT/SIGTERM.',
  },
  WORKFLOW_BUNDLE_PATH: {
    schema: nonEmpty,
    default: 'dist/workflow-bundle.js',
    doc: 'Prebuilt workflow bundle loaded in production (`npm run build` writes it).',
  },

  // Pacing: each vendor's activities run on their own task queue, capped below the vendor's limit
  KLAVIYO_MAX_PER_SECOND: {
    schema: positiveNumber,
    default: '50',
    doc: 'Klaviyo recovery events (emails) sent per second across all workers (events allow 350/s burst, 3,500/min).',
  },
  KLAVIYO_PROFILES_MAX_PER_SECOND: {
    schema: positiveNumber,
    default: '2',
    doc: 'Klaviyo profile look-ups (enrichment) per second across all workers (with predictive analytics Klaviyo allows 10/s burst, 150/min).',
  },
  SHOPIFY_MAX_PER_SECOND: {
    schema: positiveNumber,
    default: '3',
    doc: 'Shopify Admin activities per second (the standard plan refills 100 cost points/s; a touch with a code costs about 25).',
  },
  GORGIAS_MAX_PER_SECOND: {
    schema: positiveNumber,
    default: '1.8',
    doc: 'Gorgias activities per second (API-key limit: 40 requests per 20 s).',
  },

  // Vendors: each one is live when its credentials are set, the local sandbox otherwise
  VENDOR_HTTP_TIMEOUT: {
    schema: duration,
    default: '10s',
    doc: 'Timeout of one HTTP call to Klaviyo, Shopify or Gorgias; a timed-out call is retried by Temporal.',
  },
  EMAIL_LOCALE: {
    schema: locale,
    default: 'en-US',
    doc: 'Locale of the preformatted prices and dates in the email properties (`total_formatted`, ...).',
  },
  KLAVIYO_PRIVATE_API_KEY: {
    schema: klaviyoPrivateApiKey,
    secret: true,
    doc: 'Klaviyo private API key (scopes: events:write, profiles:read, segments:read, accounts:read). Unset: the sandbox.',
  },
  KLAVIYO_BASE_URL: {
    schema: url,
    doc: 'Klaviyo API base URL (default https://a.klaviyo.com); for tests and proxies.',
  },
  KLAVIYO_RECOVERY_METRIC: {
    schema: nonEmpty,
    default: 'Cart Recovery Touch',
    doc: 'Name of the Klaviyo metric whose events trigger the recovery flow.',
  },
  KLAVIYO_VIP_CLV_THRESHOLD: {
    schema: z.coerce.number({ message: 'expected a number' }).nonnegative('expected a number of 0 or more'),
    doc: 'Historic customer lifetime value (Klaviyo account currency) at or above which a customer is VIP.',
  },
  KLAVIYO_VIP_SEGMENT_ID: {
    schema: z
      .string()
      .trim()
      .regex(/^[A-Za-z0-9]{4,}$/, 'expected a Klaviyo segment id such as XyZ123'),
    doc: 'Klaviyo segment whose members are VIP (checked in addition to the CLV threshold).',
  },
  SHOPIFY_SHOP_DOMAIN: {
    schema: myshopifyDomain,
    doc: "The shop's myshopify.com domain (the Admin API does not answer on custom domains).",
  },
  SHOPIFY_ADMIN_ACCESS_TOKEN: {
    schema: nonEmpty,
    secret: true,
    doc: 'Admin API access token (scopes: write_discounts, read_products, read_inventory). Unset: the sandbox.',
  },
  SHOPIFY_API_VERSION: {
    schema: shopifyApiVersion,
    default: '2025-10',
    doc: 'Shopify Admin GraphQL API version.',
  },
  SHOPIFY_ADMIN_BASE_URL: {
    schema: url,
    doc: 'Admin API base URL (default https://<SHOPIFY_SHOP_DOMAIN>); for tests and proxies.',
  },
  DISCOUNT_CODE_SECRET: {
    schema: discountCodeSecret,
    secret: true,
    doc: 'Secret from which discount codes are derived (HMAC of the touch key), so a retry finds the code it created. Required when Shopify is live; never change it while carts are in flight.',
  },
  GORGIAS_DOMAIN: {
    schema: gorgiasSubdomain,
    doc: 'Gorgias account subdomain (mystore for mystore.gorgias.com).',
  },
  GORGIAS_USERNAME: {
    schema: z.email({ message: 'expected the email address of the Gorgias user owning the API key' }),
    doc: 'Email of the Gorgias user whose API key is used (HTTP Basic user name).',
  },
  GORGIAS_API_KEY: {
    schema: nonEmpty,
    secret: true,
    doc: 'Gorgias REST API key. Unset: the sandbox.',
  },
  GORGIAS_BASE_URL: {
    schema: url,
    doc: 'Gorgias API base URL (default https://<GORGIAS_DOMAIN>.gorgias.com); for tests and proxies.',
  },

  // API
  PORT: { schema: port, default: '3000', doc: 'HTTP port of the API (webhooks, health, dashboard).' },
  PUBLIC_URL: {
    schema: url,
    default: 'http://localhost:3000',
    doc: 'Public base URL of the API, used in tracked links in emails.',
  },

  // Shopify webhook relay (POST /webhooks/shopify)
  SHOPIFY_WEBHOOK_SECRET: {
    schema: csv,
    secret: true,
    doc: "Secret(s) Shopify signs webhooks with (the app's client secret); comma-separated while rotating. Unset: every delivery is refused with 401.",
  },
  SHOPIFY_WEBHOOK_SHOP_SECRETS: {
    schema: shopSecrets,
    secret: true,
    doc: 'Per-shop webhook secrets as shop.myshopify.com=secret pairs, comma-separated (repeat a shop while rotating); for a listed shop they replace SHOPIFY_WEBHOOK_SECRET.',
  },
  WEBHOOK_BODY_LIMIT: {
    schema: byteSize,
    default: '1mb',
    doc: 'Largest webhook body accepted; larger deliveries are answered 413.',
  },
  WEBHOOK_TEMPORAL_TIMEOUT: {
    schema: duration,
    default: '4s',
    doc: 'Deadline of the hand-over to Temporal before answering 503; Shopify waits 5 s for an answer, so keep it below.',
  },
  WEBHOOK_DEDUPE_RETENTION: {
    schema: duration,
    default: '7d',
    doc: 'How long delivered webhook ids are remembered to ignore repeats (Shopify retries for about 4 h).',
  },
  DEMO_TRAFFIC: {
    schema: bool,
    doc: '`npm start` runs the webhook simulator against its own API. Default: on when no vendor or Temporal cluster is configured (local sandbox).',
  },
  DEMO_TRAFFIC_RATE: {
    schema: positiveNumber,
    default: '6',
    doc: 'Simulated shoppers per minute started by DEMO_TRAFFIC.',
  },

  // Metrics: tracked links, dashboard, engagement sync (docs/metrics.md)
  LINK_SIGNING_SECRET: {
    schema: linkSigningSecret,
    secret: true,
    doc: 'Signs the tracked links (/r/<token>) in emails. Required outside development; in development a secret is generated once into DATA_DIR.',
  },
  LINK_TTL: {
    schema: duration,
    default: '30d',
    doc: 'How long a tracked link in an email keeps redirecting to the checkout.',
  },
  DASHBOARD_AUTH: {
    schema: z.enum(['required', 'local', 'disabled'], {
      message: 'expected required, local (NODE_ENV=development only) or disabled',
    }),
    doc: 'required: DASHBOARD_TOKEN or DASHBOARD_USER/DASHBOARD_PASSWORD must be set, or the API refuses to start; local: no credentials, answers only clients on this machine (NODE_ENV=development only); disabled: no /dashboard or /api/metrics. Default: required when credentials are set or outside development, local otherwise.',
  },
  DASHBOARD_TOKEN: {
    schema: dashboardToken,
    secret: true,
    doc: 'Bearer token for /dashboard and /api/metrics (`Authorization: Bearer <token>`, or ?token= once, kept in a cookie).',
  },
  DASHBOARD_USER: { schema: nonEmpty, doc: 'Basic-auth user name for /dashboard and /api/metrics.' },
  DASHBOARD_PASSWORD: {
    schema: dashboardPassword,
    secret: true,
    doc: 'Basic-auth password for /dashboard and /api/metrics (with DASHBOARD_USER).',
  },
  METRICS_TIMEZONE: {
    schema: timezone,
    doc: 'IANA time zone whose calendar days the dashboard counts in: cohort days, order days, the date range. Default: RECOVERY_SHOP_TIMEZONE (itself UTC by default). Changing it rebuilds the daily rollups once at the next start.',
  },
  ENGAGEMENT_SYNC_INTERVAL: {
    schema: duration,
    default: '1h',
    doc: 'How often the Temporal Schedule reads email opens and clicks from Klaviyo.',
  },
  ENGAGEMENT_SYNC_OVERLAP: {
    schema: duration,
    default: '3h',
    doc: 'Each sync re-reads this much before the last synced time, to catch events Klaviyo records late (nothing is counted twice).',
  },
  ENGAGEMENT_SYNC_BACKFILL: {
    schema: duration,
    default: '7d',
    doc: 'How far back the first sync reads.',
  },
  // Recovery policy (docs/workflow.md). Unset values come from the preset (RECOVERY_POLICY).
  RECOVERY_POLICY: {
    schema: z.enum(['default', 'demo'], { message: 'expected default or demo' }),
    doc: 'Preset the RECOVERY_* settings start from: default (hours and days) or demo (minutes, no quiet hours). Unset: demo in the local sandbox, default otherwise.',
  },
  RECOVERY_ABANDON_AFTER: {
    schema: duration,
    doc: 'Quiet time after the last checkout or cart activity before a checkout counts as abandoned (default 1h; demo 1m).',
  },
  RECOVERY_TOUCH_DELAYS: {
    schema: durationList,
    doc: 'When each touch goes out, after the last activity (default 1h,6h,24h,72h; demo 1m,2m,3m,4m). The first is at or after RECOVERY_ABANDON_AFTER.',
  },
  RECOVERY_DISCOUNTS_WELCOME: {
    schema: percentList,
    doc: 'Discount percent per touch for new customers, one per touch; 0 = no code (default 10,10,15,20).',
  },
  RECOVERY_DISCOUNTS_LOYALTY: {
    schema: percentList,
    doc: 'Discount percent per touch for returning customers (default 0,5,10,15).',
  },
  RECOVERY_DISCOUNTS_PREMIUM: {
    schema: percentList,
    doc: 'Discount percent per touch for premium carts or VIP customers (default 0,10,15,20).',
  },
  RECOVERY_DISCOUNT_VALIDITY: {
    schema: duration,
    doc: 'How long each single-use code stays valid (default 2d; demo 10m).',
  },
  RECOVERY_PREMIUM_THRESHOLDS: {
    schema: moneyByCurrency,
    doc: 'Cart value per currency from which a cart is premium, e.g. USD:200,EUR:180 (default USD:200). A currency not listed never makes a cart premium by value.',
  },
  RECOVERY_TICKET_THRESHOLDS: {
    schema: moneyByCurrency,
    doc: 'Cart value per currency from which a support ticket is opened at abandonment (default USD:200).',
  },
  RECOVERY_REQUIRE_MARKETING_CONSENT: {
    schema: bool,
    doc: 'Email only customers who opted in (checkout opt-in or Klaviyo SUBSCRIBED). false: transactional-style sending, only where the law allows it; unsubscribed and suppressed customers are never emailed (default true).',
  },
  RECOVERY_COOLDOWN: {
    schema: duration,
    doc: 'No new sequence for a customer within this time after the end of their previous one (default 7d; demo 2m).',
  },
  RECOVERY_ATTRIBUTION_WINDOW: {
    schema: duration,
    doc: 'An order within this time after a touch is attributed to it; the workflow waits this long after the last touch (default 5d; demo 5m).',
  },
  RECOVERY_QUIET_HOURS: {
    schema: quietHours,
    doc: 'Local hours [start, end) in which no email goes out; a touch due then moves to the end hour (default 21-8; demo off).',
  },
  RECOVERY_SHOP_TIMEZONE: {
    schema: timezone,
    doc: "Time zone for quiet hours when the customer's is unknown (default UTC).",
  },
  RECOVERY_CONTROL_GROUP_PERCENT: {
    schema: wholePercent,
    doc: 'Share of abandoned carts held out as a control group: tracked, never emailed (default 0).',
  },
  RECOVERY_MIN_TOUCH_GAP: {
    schema: duration,
    doc: 'Smallest time between two emails of one sequence, also after an outage: touches that became due together send only the latest (default 4h; demo 30s).',
  },
  RECOVERY_TIMER_JITTER: {
    schema: duration,
    doc: 'Up to this much random delay on each timer, so that many carts do not wake at once (default 5m; demo 2s).',
  },
  RECOVERY_CONTINUE_AS_NEW_AFTER_EVENTS: {
    schema: positiveInt,
    doc: 'History length at which a cart continues as new (default 2000).',
  },
} satisfies Record<string, Variable>;

export type VariableName = keyof typeof variables;
