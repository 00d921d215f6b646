/**
 * Demo traffic for `npm start` in the local sandbox: the simulator feeds the API's own relay,
 * so a newcomer sees carts move through the Temporal Web UI and the sandbox outbox within
 * minutes, without a shop. DEMO_TRAFFIC=true|false overrides the default (on in the sandbox).
 */
import { randomBytes } from 'node:crypto';
import type { Config } from '../config';
import { logger } from '../logger';
import { isLocalSandbox, recoveryPolicyFor } from '../relay/policy';
import { WEBHOOK_PATH } from '../relay/topics';
import { secretsForShop } from '../relay/signature';
import { describeStats, TrafficSimulator } from './traffic';

export const DEMO_SHOP = 'demo-shop.myshopify.com';

export function demoTrafficEnabled(config: Config): boolean {
  return config.demoTraffic.enabled ?? isLocalSandbox(config);
}

/**
 * The configuration the API runs with when demo traffic is on: without a webhook secret the
 * relay would refuse every delivery, so this process gets a random one of its own (never
 * written anywhere; real Shopify traffic needs SHOPIFY_WEBHOOK_SECRET).
 */
export function withDemoSecret(config: Config): Config {
  if (!demoTrafficEnabled(config) || secretsForShop(config.relay, DEMO_SHOP).length > 0) return config;
  return { ...config, relay: { ...config.relay, secrets: [randomBytes(24).toString('hex')] } };
}

export interface DemoTraffic {
  stop(): Promise<void>;
}

export function startDemoTraffic(config: Config): DemoTraffic {
  const secret = secretsForShop(config.relay, DEMO_SHOP)[0];
  if (!secret)
    throw new Error('demo traffic needs a webhook secret: start the API with withDemoSecret(config)');
  const sim = new TrafficSimulator({
    url: `http://127.0.0.1:${config.api.port}${WEBHOOK_PATH}`,
    shop: DEMO_SHOP,
    secret,
    shoppersPerMinute: config.demoTraffic.shoppersPerMinute,
    policy: recoveryPolicyFor(config),
  });
  sim.start();
  const report = setInterval(
    () => logger.info('demo traffic', { summary: describeStats(sim.stats) }),
    60_000,
  );
  return {
    stop: async () => {
      clearInterval(report);
      await sim.stop();
    },
  };
}
