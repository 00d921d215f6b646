/**
 * `npm run bench:relay`: what the webhook relay costs on top of Temporal itself.
 *
 * On a local Temporal dev server (started here, headless, free ports, in-memory), in one run:
 *   1. relay: signed `checkouts/update` deliveries driven by autocannon against the API process
 *      (`src/api/main.ts` in a child process, its own CPU), as fast as it answers;
 *   2. bare:  the same `sendToCart` (signalWithStart) calls from a client loop in this process,
 *      with the same concurrency;
 *   (1 and 2 alternate twice, each on fresh checkouts, and are averaged)
 *   3. latency: the relay at a fixed 50 deliveries/s, p50/p99 acknowledgement latency.
 * No worker runs: both paths stop at Temporal's durable acceptance, which is what the relay's
 * 200 promises. Prints a Markdown section for BENCHMARKS.md.
 *
 *   npm run bench:relay [-- --seconds 15 --connections 16 --rate-seconds 30 --profile <dir>]
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import autocannon from 'autocannon';
import { Client, Connection } from '@temporalio/client';
import { openDatabase } from '../../src/db';
import { ensureTemporalBinary } from '../../src/temporal/binaries';
import { sendToCart, type CartStartOptions } from '../../src/temporal/cart-client';
import { toCheckoutSnapshot, CheckoutPayload } from '../../src/relay/shopify-payloads';
import { checkoutUpdatedSignal } from '../../src/workflows/messages';
import { DEFAULT_POLICY } from '../../src/workflows/policy';
import { ALL_SEARCH_ATTRIBUTES } from '../../src/workflows/search-attributes';
import {
  checkoutPayload,
  delivery,
  shopifyHeaders,
  type SimCheckout,
} from '../../src/simulator/shopify-webhooks';
import { freePort } from '../../test/helpers/ports';

const args = process.argv.slice(2);
const num = (name: string, fallback: number) => {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? Number(args[i + 1]) : fallback;
};
const SECONDS = num('seconds', 15);
const CONNECTIONS = num('connections', 16);
const RATE_SECONDS = num('rate-seconds', 30);
const profileDir = args.includes('--profile') ? args[args.indexOf('--profile') + 1] : undefined;
const SHOP = 'bench.myshopify.com';
const SEARCH_ATTRIBUTE_TYPE: Record<string, string> = { KEYWORD: 'Keyword', DOUBLE: 'Double', INT: 'Int' };
const SECRET = randomBytes(24).toString('hex');
const TASK_QUEUE = 'bench-relay';

async function waitFor(check: () => Promise<boolean>, what: string, timeoutMs = 60_000) {
  const deadline = Date.now() + timeoutMs;
  while (Date.now() < deadline) {
    if (await check().catch(() => false)) return;
    await new Promise((r) => setTimeout(r, 250));
  }
  throw new Error(`${what} did not come up within ${timeoutMs / 1000} s`);
}

function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once('exit', () => resolve());
    child.kill('SIGTERM');
    setTimeout(() => child.kill('SIGKILL'), 10_000).unref();
  });
}

/** A pool of checkouts per phase: each request updates the next one, with a fresh webhook id. */
function checkoutPool(size: number): SimCheckout[] {
  return Array.from({ length: size }, (_, i) => ({
    checkoutToken: randomBytes(16).toString('hex'),
    cartToken: randomBytes(16).toString('hex'),
    checkoutId: 40_000_000_000 + i,
    customerId: 7_000_000_000 + i,
    email: `bench-${i}@example.com`,
    firstName: 'Bench',
    lastName: 'Mark',
    acceptsMarketing: true,
    currency: 'USD',
    lineItems: [
      {
        productId: 1,
        variantId: 11,
        title: 'Trail Runner',
        variantTitle: 'Blue / 42',
        sku: 'TR',
        quantity: 1,
        price: '89.00',
      },
      {
        productId: 2,
        variantId: 21,
        title: 'Merino Socks',
        variantTitle: null,
        sku: 'MS',
        quantity: 2,
        price: '24.50',
      },
    ],
  }));
}

function nextDelivery(pool: SimCheckout[], counter: { n: number }) {
  const c = pool[counter.n++ % pool.length]!;
  const at = new Date(Date.now() + counter.n).toISOString();
  return delivery('checkouts/update', SHOP, checkoutPayload(c, { createdAt: at, updatedAt: at }, SHOP), at);
}

/**
 * Deliveries built and signed before the clock starts, each with its own webhook id, so that
 * the load generator's CPU (on the same 2 cores) is spent sending, not building payloads.
 */
function prebuilt(count: number) {
  const pool = checkoutPool(2_000);
  const counter = { n: 0 };
  return Array.from({ length: count }, () => {
    const d = nextDelivery(pool, counter);
    return { body: d.body, headers: shopifyHeaders(d, SECRET) };
  });
}

async function relayPhase(url: string, seconds: number, overallRate?: number) {
  const deliveries = prebuilt(Math.ceil((overallRate ?? 400) * seconds * 1.2));
  let next = 0;
  const result = await autocannon({
    url,
    method: 'POST',
    connections: overallRate ? 10 : CONNECTIONS,
    duration: seconds,
    overallRate,
    requests: [
      {
        setupRequest: (req) => {
          // Past the prebuilt ones (a very fast relay), build on the fly rather than repeat ids.
          const d = deliveries[next++] ?? prebuilt(1)[0]!;
          return { ...req, method: 'POST', body: d.body, headers: d.headers };
        },
      },
    ],
  });
  return {
    perSecond: result['2xx'] / result.duration,
    non2xx: result.non2xx,
    errors: result.errors,
    p50: result.latency.p50,
    p99: result.latency.p99,
    total: result['2xx'],
  };
}

async function barePhase(client: Client, seconds: number) {
  const pool = checkoutPool(2_000);
  const counter = { n: 0 };
  const start: CartStartOptions = {
    workflowTaskQueue: TASK_QUEUE,
    activityTaskQueues: {
      klaviyo: `${TASK_QUEUE}-klaviyo`,
      shopify: `${TASK_QUEUE}-shopify`,
      gorgias: `${TASK_QUEUE}-gorgias`,
    },
    policy: DEFAULT_POLICY,
  };
  // The same Temporal work the relay does per delivery: the normalised snapshot, prepared
  // before the clock starts like the relay phase's bodies, then one signalWithStart each.
  const snapshots = Array.from({ length: 400 * seconds * 1.2 }, () =>
    toCheckoutSnapshot(CheckoutPayload.parse(JSON.parse(nextDelivery(pool, counter).body))),
  );
  const end = Date.now() + seconds * 1000;
  let done = 0;
  let failed = 0;
  let taken = 0;
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: CONNECTIONS }, async () => {
      while (Date.now() < end) {
        const snapshot =
          snapshots[taken++] ??
          toCheckoutSnapshot(CheckoutPayload.parse(JSON.parse(nextDelivery(pool, counter).body)));
        try {
          await sendToCart(
            client,
            start,
            { shop: SHOP, checkoutToken: snapshot.token },
            checkoutUpdatedSignal,
            snapshot,
          );
          done++;
        } catch {
          failed++;
        }
      }
    }),
  );
  return { perSecond: done / ((performance.now() - t0) / 1000), failed };
}

async function main() {
  const grpcPort = await freePort();
  const apiPort = await freePort();
  const dataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'bench-relay-'));
  const temporal = spawn(
    ensureTemporalBinary('cli'),
    [
      'server',
      'start-dev',
      '--headless',
      '--ip',
      '127.0.0.1',
      '--port',
      String(grpcPort),
      '--log-level',
      'error',
      // sendToCart sets search attributes at start: register them as `npm start` does.
      ...ALL_SEARCH_ATTRIBUTES.flatMap((key) => [
        '--search-attribute',
        `${key.name}=${SEARCH_ATTRIBUTE_TYPE[key.type] ?? key.type}`,
      ]),
    ],
    { stdio: ['ignore', 'ignore', 'inherit'] },
  );
  let api: ChildProcess | undefined;
  let client: Client | undefined;
  // However this process ends (an error, a closed pipe), leave no server behind.
  process.once('exit', () => {
    api?.kill('SIGKILL');
    temporal.kill('SIGKILL');
  });
  try {
    const address = `127.0.0.1:${grpcPort}`;
    await waitFor(async () => {
      const c = await Connection.connect({ address, connectTimeout: 1_000 });
      await c.close();
      return true;
    }, 'the Temporal dev server');
    // --profile <dir>: a V8 CPU profile of the relay process, to see where its time goes.
    const profile = profileDir ? ['--cpu-prof', `--cpu-prof-dir=${path.resolve(profileDir)}`] : [];
    api = spawn(process.execPath, [...profile, '--import', 'tsx', 'src/api/main.ts'], {
      stdio: ['ignore', 'ignore', 'inherit'],
      env: {
        ...process.env,
        TEMPORAL_ADDRESS: address,
        TEMPORAL_TASK_QUEUE: TASK_QUEUE,
        PORT: String(apiPort),
        DATA_DIR: dataDir,
        SHOPIFY_WEBHOOK_SECRET: SECRET,
        LOG_LEVEL: 'warn',
        NODE_ENV: 'development',
      },
    });
    const base = `http://127.0.0.1:${apiPort}`;
    await waitFor(async () => (await fetch(`${base}/readyz`)).ok, 'the relay');
    client = new Client({ connection: await Connection.connect({ address }) });
    const url = `${base}/webhooks/shopify`;

    console.error(`warm-up (5 s) ...`);
    await relayPhase(url, 5);
    await barePhase(client, 5);
    const relay: Awaited<ReturnType<typeof relayPhase>>[] = [];
    const bare: Awaited<ReturnType<typeof barePhase>>[] = [];
    for (let round = 1; round <= 2; round++) {
      console.error(`round ${round}: relay ${SECONDS} s, bare ${SECONDS} s ...`);
      relay.push(await relayPhase(url, SECONDS));
      bare.push(await barePhase(client, SECONDS));
    }
    console.error(`latency at 50 deliveries/s (${RATE_SECONDS} s) ...`);
    const paced = await relayPhase(url, RATE_SECONDS, 50);

    // Only deliveries Temporal accepted count: anything else (dead letters, 503) is a failure here.
    const outcomes = (await (await fetch(`${base}/metrics`)).text())
      .split('\n')
      .filter((l) => l.startsWith('cart_recovery_webhook_deliveries_total{'));
    console.error(outcomes.join('\n'));
    const notAccepted = outcomes.filter((l) => !l.includes('outcome="accepted"'));
    const database = await openDatabase({ sqliteFile: path.join(dataDir, 'cart-recovery.sqlite') });
    const reasons = await database.query<{ reason: string; n: number }>(
      'SELECT reason, COUNT(*) AS n FROM relay_dead_letters GROUP BY reason',
    );
    await database.close();
    if (notAccepted.length > 0 || reasons.length > 0) {
      console.error(`not accepted:\n${notAccepted.join('\n')}\n${JSON.stringify(reasons, null, 2)}`);
      throw new Error('some deliveries were not accepted by Temporal: the run does not measure the relay');
    }
    const mean = (xs: number[]) => xs.reduce((a, b) => a + b, 0) / xs.length;
    const relayRate = mean(relay.map((r) => r.perSecond));
    const bareRate = mean(bare.map((b) => b.perSecond));
    const cpus = os.cpus();
    const lines = [
      `- date: ${new Date().toISOString()}`,
      `- machine: ${cpus.length} cores (${cpus[0]?.model.trim() ?? 'unknown'}), ${Math.round(os.totalmem() / 2 ** 30)} GB, node ${process.version}, load average at start ${os
        .loadavg()
        .map((l) => l.toFixed(2))
        .join(' ')} (shared machine)`,
      `- command: \`npm run bench:relay -- --seconds ${SECONDS} --connections ${CONNECTIONS} --rate-seconds ${RATE_SECONDS}\``,
      `- Temporal: \`temporal server start-dev --headless\` (in-memory SQLite), no worker; relay on SQLite bookkeeping`,
      '',
      '| measure | value |',
      '| --- | --- |',
      `| relay, max throughput (${CONNECTIONS} connections) | ${relay.map((r) => r.perSecond.toFixed(1)).join(' / ')} deliveries/s (mean ${relayRate.toFixed(1)}); non-2xx ${relay.reduce((a, r) => a + r.non2xx, 0)}, errors ${relay.reduce((a, r) => a + r.errors, 0)} |`,
      `| bare signalWithStart loop (${CONNECTIONS} in flight) | ${bare.map((b) => b.perSecond.toFixed(1)).join(' / ')} calls/s (mean ${bareRate.toFixed(1)}); failed ${bare.reduce((a, b) => a + b.failed, 0)} |`,
      `| **throughput ratio relay/bare** | **${(relayRate / bareRate).toFixed(2)}** (goal >= 0.9) |`,
      `| relay at 50 deliveries/s: acknowledgement latency p50 / p99 | **${paced.p50} ms / ${paced.p99} ms** (goal p99 < 500 ms); ${paced.total} acknowledged, non-2xx ${paced.non2xx} |`,
    ];
    console.log(lines.join('\n'));
  } finally {
    await client?.connection.close();
    if (api) await stop(api);
    await stop(temporal);
    fs.rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((err: unknown) => {
  console.error(err);
  process.exit(1);
});
