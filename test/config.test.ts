import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import path from 'node:path';
import { ConfigError, describeConfig, loadConfig, temporalAddressOf } from '../src/config';

function problemsOf(env: Record<string, string>): string[] {
  try {
    loadConfig(env);
  } catch (err) {
    if (err instanceof ConfigError) return err.problems;
    throw err;
  }
  return [];
}

describe('configuration', () => {
  it('starts on embedded defaults with no environment at all', () => {
    const config = loadConfig({});
    assert.equal(config.temporal.address, undefined);
    assert.equal(temporalAddressOf(config), '127.0.0.1:7233');
    assert.equal(config.temporal.namespace, 'default');
    assert.equal(config.temporal.taskQueue, 'cart-recovery');
    assert.equal(config.api.port, 3000);
    assert.equal(config.temporal.tls, undefined);
    assert.equal(config.database.url, undefined);
  });

  it('names the variable and what it expects for an invalid value', () => {
    const problems = problemsOf({ PORT: 'eighty', TEMPORAL_ADDRESS: 'no-port-here' });
    assert.ok(
      problems.some((p) => p.startsWith('PORT: expected a TCP port number')),
      problems.join('\n'),
    );
    assert.ok(
      problems.some((p) => p.startsWith('TEMPORAL_ADDRESS: expected host:port')),
      problems.join('\n'),
    );
  });

  it('refuses a METRICS_TIMEZONE that is not an IANA zone, naming the variable', () => {
    const problems = problemsOf({ METRICS_TIMEZONE: 'Pacific Standard Time' });
    assert.ok(
      problems.some((p) =>
        p.startsWith('METRICS_TIMEZONE: expected an IANA time zone such as America/New_York'),
      ),
      problems.join('\n'),
    );
  });

  it('takes the dashboard days from METRICS_TIMEZONE, else from the shop zone, else UTC', () => {
    assert.equal(loadConfig({}).metrics.timeZone, 'UTC');
    assert.equal(
      loadConfig({ RECOVERY_SHOP_TIMEZONE: 'America/Los_Angeles' }).metrics.timeZone,
      'America/Los_Angeles',
    );
    assert.equal(
      loadConfig({ RECOVERY_SHOP_TIMEZONE: 'America/Los_Angeles', METRICS_TIMEZONE: 'Europe/Berlin' }).metrics
        .timeZone,
      'Europe/Berlin',
    );
  });

  it('reports every problem at once rather than the first only', () => {
    assert.equal(problemsOf({ PORT: '0', WORKER_SHUTDOWN_GRACE: 'soon', LOG_LEVEL: 'loud' }).length, 3);
  });

  it('requires the cluster address when Temporal Cloud credentials are given', () => {
    const problems = problemsOf({ TEMPORAL_API_KEY: 'k' });
    assert.ok(
      problems.some((p) => p.startsWith('TEMPORAL_ADDRESS: expected host:port of the Temporal cluster')),
    );
  });

  it('requires mTLS certificate and key together', () => {
    const problems = problemsOf({
      TEMPORAL_ADDRESS: 'x.tmprl.cloud:7233',
      TEMPORAL_TLS_CLIENT_CERT_PATH: '/c.pem',
    });
    assert.ok(
      problems.some((p) => p.includes('TEMPORAL_TLS_CLIENT_CERT_PATH and TEMPORAL_TLS_CLIENT_KEY_PATH')),
    );
  });

  it('turns TLS on for an API key and reads durations', () => {
    const config = loadConfig({
      TEMPORAL_ADDRESS: 'ns.acct.tmprl.cloud:7233',
      TEMPORAL_API_KEY: 'k',
      WORKER_SHUTDOWN_GRACE: '1m30s',
    });
    assert.ok(config.temporal.tls);
    assert.equal(config.worker.shutdownGraceMs, 90_000);
  });

  it('never shows a secret value, not even an invalid one', () => {
    const problems = problemsOf({ DATABASE_URL: 'mysql://user:hunter2@db/x' });
    assert.ok(problems.some((p) => p.startsWith('DATABASE_URL: expected a postgres:// connection URL')));
    assert.ok(!problems.join('\n').includes('hunter2'));
    const described = describeConfig({ TEMPORAL_API_KEY: 'sekrit', PORT: '3001' });
    assert.deepEqual(described, { TEMPORAL_API_KEY: '(set)', PORT: '3001' });
  });

  it('stops the worker at start-up with a readable message, not a stack trace', function () {
    this.timeout(30_000);
    const result = spawnSync(process.execPath, ['--import', 'tsx', 'src/worker.ts'], {
      cwd: path.resolve(__dirname, '..'),
      encoding: 'utf8',
      env: { PATH: process.env.PATH, TEMPORAL_NAMESPACE: ' ', WORKER_MAX_CACHED_WORKFLOWS: '-5' },
      timeout: 25_000,
    });
    assert.equal(result.status, 78);
    assert.match(result.stderr, /WORKER_MAX_CACHED_WORKFLOWS: expected a number above 0 \(got "-5"\)/);
    assert.doesNotMatch(result.stderr, /^\s+at /m);
  });
});
