/**
 * Replays saved histories of representative carts against the current workflow code. A change
 * that would take open carts down a different path fails here: make it a `patched()` branch
 * (docs/workflow.md), never refresh these files to make the failure go away.
 */
import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { Worker } from '@temporalio/worker';
import { workflowBundle } from './helpers/temporal';
import { loadHistory } from './helpers/histories';

const dir = path.join(__dirname, 'histories');

describe('replay of saved cart histories', function () {
  const files = fs.readdirSync(dir).filter((f) => f.endsWith('.json'));

  it('has the representative runs to replay (histories from production may join them)', function () {
    for (const run of [
      'converted-before-abandonment.json',
      'full-sequence.json',
      'recovered-after-touch-2.json',
      // Recorded before the late-order watch (patch watch-late-order-after-early-end).
      'frequency-capped-before-late-order-watch.json',
      // The same cart with the late-order watch.
      'frequency-capped.json',
      // A touch retried after Klaviyo refused our key: it emails its own live code (patch
      // code-live-until-next-email).
      'touch-retried-after-credentials-refusal.json',
      // Klaviyo down from touch 2 until touch 3 was due: touch 2 skipped, touch 3 sent (patch
      // decide-at-send-time).
      'overdue-catch-up-after-klaviyo-outage.json',
      // The checkout email changed after touch 1: re-enriched, gate released (decide-at-send-time).
      'changed-address-after-touch-1.json',
    ])
      assert.ok(files.includes(run), `${run} is missing from test/histories`);
  });

  it('reads the histories in the JSON form the Temporal CLI and Web UI export', function () {
    for (const file of files) {
      const raw = JSON.parse(fs.readFileSync(path.join(dir, file), 'utf8')) as {
        events: { eventId: unknown; eventType: unknown; eventTime: unknown }[];
      };
      const first = raw.events[0]!;
      assert.equal(first.eventId, '1', `${file}: event ids as strings`);
      assert.equal(first.eventType, 'EVENT_TYPE_WORKFLOW_EXECUTION_STARTED', `${file}: enum names`);
      assert.equal(typeof first.eventTime, 'string', `${file}: times as RFC 3339 strings`);
    }
  });

  for (const file of files) {
    it(`replays ${file} without a determinism error`, async function () {
      const history = loadHistory(path.join(dir, file));
      await Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(require.resolve('../src/workflows')) },
        history,
        `replay-${file}`,
      );
    });
  }

  it('fails on a history the code cannot produce (the check has teeth)', async function () {
    const history = loadHistory(path.join(dir, 'full-sequence.json'));
    const scheduled = history.events?.find(
      (e) => e.activityTaskScheduledEventAttributes?.activityType?.name === 'enrichCustomer',
    );
    assert.ok(scheduled, 'the saved full sequence enriches the customer');
    scheduled.activityTaskScheduledEventAttributes!.activityType!.name = 'somethingElse';
    await assert.rejects(
      Worker.runReplayHistory(
        { workflowBundle: await workflowBundle(require.resolve('../src/workflows')) },
        history,
        'replay-tampered',
      ),
      (err: Error) => err.name === 'DeterminismViolationError',
    );
  });
});
