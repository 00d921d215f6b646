/**
 * The API process on its own (production runs it beside the worker; `npm start` runs both).
 */
import type { Server } from 'node:http';
import { loadConfigOrExit, type Config } from '../config';
import { connectClient } from '../temporal/connection';
import { openDatabase } from '../db';
import { migrateRelay } from '../relay/migrations';
import { openMetricsStore } from '../metrics/store';
import { createLinkSigner, resolveLinkSecret } from '../metrics/links';
import { assertDashboardAuth } from './dashboard/auth';
import { logger } from '../logger';
import { createApp } from './app';

export interface RunningApi {
  server: Server;
  close(): Promise<void>;
}

export async function startApi(config: Config): Promise<RunningApi> {
  // Refuse to start with the dashboard exposed and no credentials (docs/metrics.md).
  assertDashboardAuth(config);
  const client = await connectClient(config);
  const database = await openDatabase(config.database);
  await migrateRelay(database);
  if (config.relay.secrets.length === 0 && Object.keys(config.relay.shopSecrets).length === 0)
    logger.warn('SHOPIFY_WEBHOOK_SECRET is not set: every webhook delivery will be refused with 401');
  const metrics = {
    store: await openMetricsStore(database, { timeZone: config.metrics.timeZone }),
    signer: createLinkSigner(resolveLinkSecret(config)),
  };
  const app = createApp({ config, client, database, metrics });
  const server = await new Promise<Server>((resolve, reject) => {
    const s = app.listen(config.api.port, (err?: Error) => (err ? reject(err) : resolve(s)));
  });
  logger.info('api listening', { port: config.api.port });
  return {
    server,
    close: async () => {
      await new Promise<void>((resolve) => server.close(() => resolve()));
      server.closeAllConnections();
      await client.connection.close();
      await database.close();
    },
  };
}

if (require.main === module) {
  const config = loadConfigOrExit();
  startApi(config)
    .then((api) => {
      const stop = () => {
        api.close().then(
          () => process.exit(0),
          () => process.exit(1),
        );
      };
      process.once('SIGINT', stop);
      process.once('SIGTERM', stop);
    })
    .catch((err: unknown) => {
      logger.error('api failed to start', { err });
      process.exit(1);
    });
}
