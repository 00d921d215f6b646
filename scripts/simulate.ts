/**
 * `npm run simulate`: realistic signed Shopify webhook traffic against a running relay.
 *
 *   npm run simulate -- [--rate 6] [--shoppers 50] [--duration 10m] [--url http://localhost:3000/webhooks/shopify]
 *                       [--shop demo-shop.myshopify.com] [--policy demo|default] [--seed 42]
 *
 * --rate is shoppers per minute. The secret is the relay's own (SHOPIFY_WEBHOOK_SECRET, or the
 * shop's entry in SHOPIFY_WEBHOOK_SHOP_SECRETS). Journey times follow the recovery policy the
 * relay uses (the demo policy in the local sandbox), so orders land between the touches.
 */
import { loadConfigOrExit } from '../src/config';
import { parseDuration } from '../src/duration';
import { WEBHOOK_PATH } from '../src/relay/topics';
import { recoveryPolicyFor } from '../src/relay/policy';
import { secretsForShop } from '../src/relay/signature';
import { describeStats, TrafficSimulator } from '../src/simulator/traffic';

function flag(args: string[], name: string): string | undefined {
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : undefined;
}

function fail(message: string): never {
  console.error(
    `${message}\nusage: npm run simulate -- [--rate 6] [--shoppers N] [--duration 10m] [--url URL] [--shop DOMAIN] [--policy demo|default] [--seed N]`,
  );
  process.exit(64);
}

function main() {
  const args = process.argv.slice(2);
  const config = loadConfigOrExit();
  const rate = Number(flag(args, 'rate') ?? config.demoTraffic.shoppersPerMinute);
  if (!(rate > 0)) fail('--rate: expected shoppers per minute above 0');
  const shoppersFlag = flag(args, 'shoppers');
  const maxShoppers = shoppersFlag === undefined ? undefined : Number(shoppersFlag);
  if (maxShoppers !== undefined && !(Number.isInteger(maxShoppers) && maxShoppers > 0))
    fail('--shoppers: expected a whole number above 0');
  const durationFlag = flag(args, 'duration');
  const durationMs = durationFlag === undefined ? undefined : parseDuration(durationFlag);
  if (durationFlag !== undefined && durationMs === undefined)
    fail('--duration: expected a duration such as 90s or 10m');
  const policyFlag = flag(args, 'policy');
  if (policyFlag && policyFlag !== 'demo' && policyFlag !== 'default')
    fail('--policy: expected demo or default');
  // The relay's policy (same settings), or a preset with the RECOVERY_* values laid over it.
  const policy =
    policyFlag === 'demo' || policyFlag === 'default'
      ? config.recovery.policies[policyFlag]
      : recoveryPolicyFor(config);
  const shop = flag(args, 'shop') ?? 'demo-shop.myshopify.com';
  const url = flag(args, 'url') ?? `http://localhost:${config.api.port}${WEBHOOK_PATH}`;
  const secret = secretsForShop(config.relay, shop)[0];
  if (!secret) fail(`no webhook secret for ${shop}: set SHOPIFY_WEBHOOK_SECRET to the relay's secret`);
  const seedFlag = flag(args, 'seed');

  const sim = new TrafficSimulator({
    url,
    shop,
    secret,
    shoppersPerMinute: rate,
    policy,
    maxShoppers,
    seed: seedFlag === undefined ? undefined : Number(seedFlag),
  });
  console.log(`Simulating ${rate} shoppers/min of ${shop} against ${url} (Ctrl-C to stop) ...`);
  sim.start();
  const progress = setInterval(() => console.log(describeStats(sim.stats)), 15_000);
  const finish = async () => {
    clearInterval(progress);
    await sim.stop();
    console.log(`Done: ${describeStats(sim.stats)}`);
    console.log(`Journeys: ${JSON.stringify(sim.stats.byJourney)}`);
    process.exit(0);
  };
  process.once('SIGINT', () => void finish());
  if (durationMs !== undefined) setTimeout(() => void finish(), durationMs);
  if (maxShoppers !== undefined) {
    // Wait until every journey of the last shopper has been delivered.
    const poll = setInterval(() => {
      if (sim.stats.shoppers >= maxShoppers && !sim.busy) {
        clearInterval(poll);
        void finish();
      }
    }, 1_000);
  }
}

main();
