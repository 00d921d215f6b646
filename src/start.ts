/**
 * `npm start`: the whole system on one machine. Starts the Temporal dev server (unless
 * TEMPORAL_ADDRESS points at a cluster) with its SQLite file in the data folder, so open carts
 * survive a restart, then the worker and the API in this process. Ctrl-C stops all of it.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import fs from 'node:fs';
import net from 'node:net';
import { Connection } from '@temporalio/client';
import { loadConfigOrExit, temporalAddressOf, temporalUiUrlOf, type Config } from './config';
import { ensureTemporalBinary, MissingTemporalBinaryError } from './temporal/binaries';
import { ALL_SEARCH_ATTRIBUTES } from './workflows/search-attributes';
import { startWorkers, type RunningWorker } from './worker';
import { startApi, type RunningApi } from './api/main';
import { demoTrafficEnabled, startDemoTraffic, withDemoSecret, type DemoTraffic } from './simulator/demo';
import { logger } from './logger';
import { installRuntime } from './temporal/runtime';

const SEARCH_ATTRIBUTE_TYPE_NAMES: Record<string, string> = {
  KEYWORD: 'Keyword',
  TEXT: 'Text',
  INT: 'Int',
  DOUBLE: 'Double',
  BOOL: 'Bool',
  DATETIME: 'Datetime',
  KEYWORD_LIST: 'KeywordList',
};

function portInUse(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const socket = net.connect({ host: '127.0.0.1', port });
    socket.once('connect', () => {
      socket.destroy();
      resolve(true);
    });
    socket.once('error', () => resolve(false));
  });
}

async function waitForTemporal(address: string, child: ChildProcess, timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  let exited = false;
  child.once('exit', () => (exited = true));
  while (Date.now() < deadline) {
    if (exited) throw new Error('the Temporal dev server exited during start-up (see its output above)');
    try {
      const connection = await Connection.connect({ address, connectTimeout: 1_000 });
      await connection.workflowService.getSystemInfo({});
      await connection.close();
      return;
    } catch {
      await new Promise((r) => setTimeout(r, 300));
    }
  }
  throw new Error(`the Temporal dev server did not answer on ${address} within ${timeoutMs / 1000} s`);
}

export async function startDevServer(config: Config): Promise<ChildProcess> {
  const { port, uiPort, dbFile } = config.temporal.dev;
  if (await portInUse(port)) {
    throw new Error(
      `port ${port} is already in use: another Temporal (or an earlier \`npm start\`) is running. ` +
        `Stop it, or set TEMPORAL_ADDRESS=127.0.0.1:${port} to use it, or TEMPORAL_DEV_PORT to pick another port.`,
    );
  }
  const cli = ensureTemporalBinary('cli');
  fs.mkdirSync(config.dataDir, { recursive: true });
  const args = [
    'server',
    'start-dev',
    '--ip',
    '127.0.0.1',
    '--port',
    String(port),
    '--ui-port',
    String(uiPort),
    '--db-filename',
    dbFile,
    '--namespace',
    config.temporal.namespace,
    // warn-level server logs are mostly its own poll errors while it shuts down
    '--log-level',
    'error',
    '--ui-disable-news-fetch',
    // Sealed payloads (TEMPORAL_PAYLOAD_KEYS): the UI opens them through the API's codec endpoint.
    ...(config.temporal.payloadKeys
      ? ['--ui-codec-endpoint', `http://localhost:${config.api.port}/codec`]
      : []),
    ...ALL_SEARCH_ATTRIBUTES.flatMap((key) => [
      '--search-attribute',
      `${key.name}=${SEARCH_ATTRIBUTE_TYPE_NAMES[key.type] ?? key.type}`,
    ]),
  ];
  // Its own process group, so that Ctrl-C in the terminal reaches us first and we stop it last,
  // after the worker has finished its tasks.
  const child = spawn(cli, args, { stdio: ['ignore', 'inherit', 'inherit'], detached: true });
  await waitForTemporal(`127.0.0.1:${port}`, child, 30_000);
  return child;
}

async function stopChild(child: ChildProcess, timeoutMs = 10_000): Promise<void> {
  if (child.exitCode !== null || child.signalCode !== null) return;
  const exited = new Promise<void>((resolve) => child.once('exit', () => resolve()));
  child.kill('SIGTERM');
  const timer = setTimeout(() => child.kill('SIGKILL'), timeoutMs);
  await exited;
  clearTimeout(timer);
}

async function main() {
  const config = loadConfigOrExit();
  // We orchestrate shutdown ourselves: worker first, then the API, then the dev server.
  installRuntime(config, []);

  let devServer: ChildProcess | undefined;
  let worker: RunningWorker | undefined;
  let api: RunningApi | undefined;
  let demoTraffic: DemoTraffic | undefined;
  let stopping = false;

  const stop = async (code: number) => {
    if (stopping) return;
    stopping = true;
    console.log('\nStopping: worker, API, then Temporal ...');
    await demoTraffic?.stop().catch(() => undefined);
    worker?.shutdown();
    await worker?.done.catch(() => undefined);
    await api?.close().catch(() => undefined);
    if (devServer) await stopChild(devServer);
    console.log('Stopped.');
    process.exit(code);
  };
  process.on('SIGINT', () => void stop(0));
  process.on('SIGTERM', () => void stop(0));

  try {
    if (!config.temporal.address) {
      console.log(`Starting the Temporal dev server (data: ${config.temporal.dev.dbFile}) ...`);
      devServer = await startDevServer(config);
      devServer.once('exit', (code) => {
        if (!stopping) {
          logger.error('the Temporal dev server exited unexpectedly', { code });
          void stop(1);
        }
      });
    }
    worker = await startWorkers(config);
    worker.done.catch((err: unknown) => {
      logger.error('worker failed', { err });
      void stop(1);
    });
    // Demo traffic (local sandbox by default, DEMO_TRAFFIC=true|false): simulated shoppers
    // post signed webhooks to this API, which needs a webhook secret to accept them.
    const apiConfig = withDemoSecret(config);
    api = await startApi(apiConfig);
    if (demoTrafficEnabled(config)) demoTraffic = startDemoTraffic(apiConfig);
  } catch (err) {
    if (err instanceof MissingTemporalBinaryError) console.error(`\n${err.message}\n`);
    else console.error(`\nStart-up failed: ${err instanceof Error ? err.message : String(err)}\n`);
    await stop(1);
    return;
  }

  const modes = Object.entries(worker.modes)
    .map(([vendor, mode]) => `${vendor}: ${mode}`)
    .join(', ');
  console.log(
    [
      '',
      'cart-recovery is running.',
      `  Temporal          ${temporalAddressOf(config)} (namespace ${config.temporal.namespace})`,
      `  Temporal Web UI   ${temporalUiUrlOf(config)}`,
      `  API               http://localhost:${config.api.port}  (GET /healthz, GET /readyz)`,
      `  Worker            task queue ${config.temporal.taskQueue}${modes ? ` (${modes})` : ''}`,
      `  Webhooks          POST http://localhost:${config.api.port}/webhooks/shopify  (GET /metrics)`,
      ...(config.dashboard.auth === 'disabled'
        ? []
        : [
            `  Dashboard         http://localhost:${config.api.port}/dashboard  (${config.dashboard.auth === 'local' ? 'this machine only, no credentials' : 'DASHBOARD_TOKEN or DASHBOARD_USER/PASSWORD'})`,
          ]),
      ...(Object.values(worker.modes).includes('sandbox')
        ? [
            `  Sandbox outbox    http://localhost:${config.api.port}/sandbox/outbox  (what the sandbox vendors sent)`,
          ]
        : []),
      ...(demoTraffic
        ? [
            `  Demo traffic      ${config.demoTraffic.shoppersPerMinute} simulated shoppers/min, short demo policy (DEMO_TRAFFIC=false to turn off)`,
          ]
        : []),
      'Press Ctrl-C to stop.',
      '',
    ].join('\n'),
  );
}

void main();
