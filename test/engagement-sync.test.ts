import assert from 'node:assert/strict';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker, type WorkflowBundleWithSourceMap } from '@temporalio/worker';
import { ActivityFailure, ApplicationFailure, WorkflowFailedError } from '@temporalio/client';
import { openDatabase, type Database } from '../src/db';
import { openMetricsStore, type MetricsStore } from '../src/metrics/store';
import { createLinkSigner, createTrackedLinks } from '../src/metrics/links';
import { createKlaviyoEngagementSource } from '../src/vendors/klaviyo/engagement';
import { createEngagementActivities } from '../src/activities/engagement';
import type { EngagementSyncResult } from '../src/workflows/engagement-sync';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './helpers/temporal';
import { cartEvents } from './helpers/metric-events';
import { KlaviyoEngagementFake } from './fakes/klaviyo-engagement-fake';

const API_KEY = 'pk_test_engagement';
const SECRET = 'engagement-sync-test-secret-0123456789abcdef';
const HOUR = 3_600_000;
const RECOVERY_METRIC = 'Cart Recovery Touch';
const OUR_FLOW = 'FLOW_RECOVERY';

describe('engagement sync (Klaviyo fake, time-skipping server)', function () {
  let env: TestWorkflowEnvironment;
  let bundle: WorkflowBundleWithSourceMap;
  let fake: KlaviyoEngagementFake;
  let db: Database;
  let store: MetricsStore;
  const signer = createLinkSigner(SECRET);
  const now = new Date();
  const ago = (ms: number) => new Date(now.getTime() - ms).toISOString();

  before(async function () {
    this.timeout(120_000);
    env = await createTimeSkippingEnv();
    bundle = await workflowBundle(require.resolve('../src/workflows/engagement-sync'));
  });
  after(async () => {
    await env?.teardown();
  });

  beforeEach(async () => {
    fake = await new KlaviyoEngagementFake(API_KEY).start();
    db = await openDatabase({ sqliteFile: ':memory:' });
    store = await openMetricsStore(db, { timeZone: 'UTC' });
  });
  afterEach(async () => {
    await fake.stop();
    await db.close();
  });

  async function runSync(
    title: string,
    source: ReturnType<typeof createKlaviyoEngagementSource> | null,
  ): Promise<EngagementSyncResult> {
    const taskQueue = uniqueId(title);
    const worker = await Worker.create({
      connection: env.nativeConnection,
      taskQueue,
      workflowBundle: bundle,
      activities: createEngagementActivities({
        store,
        signer,
        source,
        recoveryMetric: RECOVERY_METRIC,
        overlapMs: 3 * HOUR,
        backfillMs: 7 * 24 * HOUR,
        lookbackMs: 30 * 24 * HOUR,
        now: () => now,
      }),
    });
    return worker.runUntil(
      env.client.workflow.execute<() => Promise<EngagementSyncResult>>('engagementSync', {
        taskQueue,
        workflowId: uniqueId(title),
        args: [],
      }),
    );
  }

  const liveSource = (apiKey = API_KEY) =>
    createKlaviyoEngagementSource({
      privateApiKey: apiKey,
      baseUrl: fake.url,
      timeoutMs: 5_000,
      recoveryMetric: RECOVERY_METRIC,
    });

  /** Two carts with sent touches and their tracked links, as the send activity leaves them. */
  async function seedTouches() {
    for (const e of [
      ...cartEvents({ token: 'ca', abandonedAt: ago(10 * HOUR), touches: 2 }),
      ...cartEvents({ token: 'cb', abandonedAt: ago(10 * HOUR), touches: 1 }),
    ]) {
      await store.record(e);
    }
    const links = createTrackedLinks({
      store,
      signer,
      publicUrl: 'https://recovery.example.com',
      ttlMs: 30 * 24 * HOUR,
      now: () => new Date(now.getTime() - 9 * HOUR),
    });
    await links.trackedLink({
      shop: 'demo.myshopify.com',
      checkoutToken: 'ca',
      touch: 1,
      restoreUrl: 'https://demo.myshopify.com/a',
      email: 'Ann@Example.com',
    });
    const bLink = await links.trackedLink({
      shop: 'demo.myshopify.com',
      checkoutToken: 'cb',
      touch: 1,
      restoreUrl: 'https://demo.myshopify.com/b',
      email: 'bob@example.com',
    });
    const later = createTrackedLinks({
      store,
      signer,
      publicUrl: 'https://recovery.example.com',
      ttlMs: 30 * 24 * HOUR,
      now: () => new Date(now.getTime() - 4 * HOUR),
    });
    await later.trackedLink({
      shop: 'demo.myshopify.com',
      checkoutToken: 'ca',
      touch: 2,
      restoreUrl: 'https://demo.myshopify.com/a',
      email: 'ann@example.com',
    });
    return { bLink };
  }

  function seedKlaviyo(bLink: string) {
    fake.metrics.push(
      { id: 'M_OPEN', name: 'Opened Email' },
      { id: 'M_CLICK', name: 'Clicked Email' },
      { id: 'M_RECEIVED', name: 'Received Email' },
      { id: 'M_TOUCH', name: RECOVERY_METRIC, integrationKey: 'api', flowTriggerIds: [OUR_FLOW] },
      { id: 'M_OPEN_SHOPIFY', name: 'Opened Email', integrationKey: 'shopify' },
    );
    const ann = { id: 'P_ANN', email: 'ann@example.com' };
    const bob = { id: 'P_BOB', email: 'bob@example.com' };
    const carol = { id: 'P_CAROL', email: 'carol@example.com' };
    fake.events.push(
      // Ann opens touch 1 on an Apple device, then touch 2 for real.
      {
        id: 'E1',
        metricId: 'M_OPEN',
        datetime: ago(8 * HOUR),
        profile: ann,
        properties: { $flow: OUR_FLOW, 'Apple Privacy Open': true, Subject: 'Your cart' },
      },
      {
        id: 'E2',
        metricId: 'M_OPEN',
        datetime: ago(3 * HOUR),
        profile: ann,
        properties: { $flow: OUR_FLOW, 'Apple Privacy Open': false },
      },
      // Ann opens the merchant's newsletter: not ours.
      {
        id: 'E3',
        metricId: 'M_OPEN',
        datetime: ago(2 * HOUR),
        profile: ann,
        properties: { $flow: 'FLOW_NEWSLETTER' },
      },
      // Carol opens a recovery email we have no link for (sent before links were recorded).
      {
        id: 'E4',
        metricId: 'M_OPEN',
        datetime: ago(2 * HOUR),
        profile: carol,
        properties: { $flow: OUR_FLOW },
      },
      // Bob clicks our tracked link; Klaviyo reports the URL.
      {
        id: 'E5',
        metricId: 'M_CLICK',
        datetime: ago(7 * HOUR),
        profile: bob,
        properties: { $flow: OUR_FLOW, URL: bLink },
      },
      {
        id: 'E6',
        metricId: 'M_CLICK',
        datetime: ago(1 * HOUR),
        profile: bob,
        properties: { $flow: 'FLOW_NEWSLETTER', URL: 'https://demo.myshopify.com/sale' },
      },
    );
  }

  it('joins opens and clicks to our touches and ignores the merchant’s other emails', async function () {
    const { bLink } = await seedTouches();
    seedKlaviyo(bLink);
    fake.maxPageSize = 2; // four open events: two pages, resumable cursor

    const result = await runSync(this.test!.title, liveSource());
    assert.equal(result.status, 'synced');
    assert.deepEqual(result.counts.open, { read: 4, recorded: 2, duplicates: 0, unmatched: 1, notOurs: 1 });
    assert.deepEqual(result.counts.click, { read: 2, recorded: 1, duplicates: 0, unmatched: 0, notOurs: 1 });
    assert.ok(fake.requests.filter((r) => r.path === '/api/events').length >= 3, 'paged through the events');

    const s = await store.summary({
      from: ago(30 * 24 * HOUR).slice(0, 10),
      to: now.toISOString().slice(0, 10),
    });
    const [t1, t2] = s.byTouch;
    assert.deepEqual([t1!.sent, t1!.opens.count, t1!.humanOpens.count, t1!.clicks.count], [2, 1, 0, 1]);
    assert.deepEqual([t2!.sent, t2!.opens.count, t2!.humanOpens.count], [1, 1, 1]);
    assert.equal(
      await store.syncedUntil('klaviyo'),
      new Date(Math.floor(now.getTime() / 1000) * 1000).toISOString(),
    );
  });

  it('counts nothing twice when a window is read again', async function () {
    const { bLink } = await seedTouches();
    seedKlaviyo(bLink);
    await runSync(`${this.test!.title}-1`, liveSource());
    const before = await store.summary({
      from: ago(30 * 24 * HOUR).slice(0, 10),
      to: now.toISOString().slice(0, 10),
    });

    // The watermark is `now`; with `now` unchanged and a 3 h overlap the second run re-reads
    // every event of the last 3 hours, and a third run after a lost watermark re-reads it all.
    const second = await runSync(`${this.test!.title}-2`, liveSource());
    assert.equal(second.counts.open!.recorded, 0);
    assert.equal(second.counts.open!.duplicates, 1);
    await db.run('DELETE FROM metric_sync_state');
    const third = await runSync(`${this.test!.title}-3`, liveSource());
    assert.deepEqual([third.counts.open!.recorded, third.counts.open!.duplicates], [0, 2]);
    assert.deepEqual([third.counts.click!.recorded, third.counts.click!.duplicates], [0, 1]);

    const after = await store.summary({
      from: ago(30 * 24 * HOUR).slice(0, 10),
      to: now.toISOString().slice(0, 10),
    });
    assert.deepEqual(after.byTouch, before.byTouch);
    assert.deepEqual(after.funnel, before.funnel);
  });

  it('is retried by Temporal after Klaviyo answers 429, and loses nothing', async function () {
    const { bLink } = await seedTouches();
    seedKlaviyo(bLink);
    fake.throttle = { remaining: 2, retryAfterSeconds: 1 };
    const result = await runSync(this.test!.title, liveSource());
    assert.equal(fake.throttle.remaining, 0, 'both 429s were served');
    assert.equal(result.counts.open!.recorded, 2);
    assert.equal(result.counts.click!.recorded, 1);
  });

  it('fails with CredentialsRejected naming the key when Klaviyo refuses it, and keeps the watermark', async function () {
    await assert.rejects(runSync(this.test!.title, liveSource('pk_wrong')), (err: unknown) => {
      assert.ok(err instanceof WorkflowFailedError);
      assert.ok(err.cause instanceof ActivityFailure);
      assert.ok(err.cause.cause instanceof ApplicationFailure);
      assert.equal(err.cause.cause.type, 'CredentialsRejected');
      assert.match(err.cause.cause.message, /KLAVIYO_PRIVATE_API_KEY/);
      return true;
    });
    assert.equal(await store.syncedUntil('klaviyo'), undefined);
  });

  it('says there is no engagement source in sandbox mode and changes nothing', async function () {
    await seedTouches();
    const result = await runSync(this.test!.title, null);
    assert.equal(result.status, 'no-source');
    assert.match(result.notes.join(' '), /sandbox mode \(KLAVIYO_PRIVATE_API_KEY is not set\)/);
    assert.equal(await store.syncedUntil('klaviyo'), undefined);
    assert.equal(fake.requests.length, 0);
  });

  it('reads only tracked-link clicks while no Klaviyo flow uses the recovery metric', async function () {
    const { bLink } = await seedTouches();
    seedKlaviyo(bLink);
    fake.metrics.find((m) => m.id === 'M_TOUCH')!.flowTriggerIds = [];
    const result = await runSync(this.test!.title, liveSource());
    assert.equal(result.counts.open, undefined);
    assert.equal(result.counts.click!.recorded, 1);
    assert.match(result.notes.join(' '), /no Klaviyo flow is triggered by the metric "Cart Recovery Touch"/);
  });
});
