/**
 * Production shape of the worker: the workflow code is bundled once at build time and the
 * production worker loads that bundle (and refuses to start without it).
 */
import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { loadConfig } from '../src/config';
import { workflowSource } from '../src/worker';
import { createTimeSkippingEnv, uniqueId } from './helpers/temporal';
import { cartRig, FakeVendors, registerSearchAttributes, snapshot } from './helpers/cart';

const root = path.resolve(__dirname, '..');
const productionEnv = (bundlePath: string) => ({
  NODE_ENV: 'production',
  WORKFLOW_BUNDLE_PATH: bundlePath,
  LINK_SIGNING_SECRET: 'x'.repeat(40),
  DASHBOARD_TOKEN: 'd'.repeat(24),
});

describe('worker in production shape', function () {
  this.timeout(120_000);
  let env: TestWorkflowEnvironment;
  let bundlePath: string;

  before(async () => {
    bundlePath = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'bundle-')), 'workflow-bundle.js');
    const built = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/build-workflow-bundle.ts', bundlePath],
      {
        cwd: root,
        encoding: 'utf8',
      },
    );
    assert.equal(built.status, 0, built.stderr);
    env = await createTimeSkippingEnv();
    await registerSearchAttributes(env);
  });
  after(async () => {
    await env?.teardown();
  });

  it('refuses to start without the prebuilt bundle, naming the setting', () => {
    const config = loadConfig(productionEnv('/nonexistent/workflow-bundle.js'));
    assert.throws(
      () => workflowSource(config),
      /WORKFLOW_BUNDLE_PATH: no workflow bundle at .*npm run build/,
    );
  });

  it('bundles on the fly in development', () => {
    assert.deepEqual(Object.keys(workflowSource(loadConfig({}))), ['workflowsPath']);
  });

  it('runs carts from the bundle built by `npm run build`', async function () {
    const config = loadConfig(productionEnv(bundlePath));
    const source = workflowSource(config);
    assert.deepEqual(source, { workflowBundle: { codePath: bundlePath } });
    const taskQueue = uniqueId(this.test!.title);
    const vendors = new FakeVendors();
    const worker = await Worker.create({
      ...source,
      connection: env.nativeConnection,
      taskQueue,
      activities: vendors.activities(env.client),
    });
    const rig = cartRig(env, taskQueue, vendors);
    await worker.runUntil(async () => {
      const token = uniqueId('bundle');
      await rig.update(token, snapshot(token, await rig.now()));
      const status = await rig.status(token);
      assert.equal(status.stage, 'watching');
      assert.equal(status.checkoutToken, token);
    });
  });
});
