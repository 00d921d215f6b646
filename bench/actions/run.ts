/**
 * Billable Temporal actions and history events per cart, counted from real histories.
 *
 *   npx tsx bench/actions/run.ts                    # print the table (Markdown)
 *   npx tsx bench/actions/run.ts --save-histories   # also save new scenarios' test/histories/*.json
 *
 * Each scenario runs the real `cartRecovery` workflow on the real time-skipping test server
 * with the vendor doubles of the tests, then reads the cart's history (and its customer gate's)
 * and counts actions with Temporal Cloud's rules (docs.temporal.io/cloud/actions):
 * workflow started (also by signal-with-start or continue-as-new), signal (sent by a client
 * or a workflow), timer started, activity scheduled plus each retry, all local activities
 * of one workflow task together (a patch marker is not one), search-attribute upsert (those
 * given at start are free, and so is the SDK's TemporalChangeVersion upsert for `patched()`).
 * Queries (the Web UI, the status query) cost an action each but leave no history; they are
 * not counted here.
 *
 * `--save-histories` writes the history of a scenario that has none in test/histories yet and
 * never overwrites one: a replay failure after a change to workflow code needs a `patched()`
 * branch, not a refreshed fixture.
 */
import fs from 'node:fs';
import path from 'node:path';
import os from 'node:os';
import type { temporal } from '@temporalio/proto';
import { createTimeSkippingEnv, workflowBundle, uniqueId } from '../../test/helpers/temporal';
import {
  FakeVendors,
  HOUR,
  cartRig,
  cartWorker,
  registerSearchAttributes,
  snapshot,
  SHOP,
  orderFor,
} from '../../test/helpers/cart';
import { saveHistory } from '../../test/helpers/histories';
import { cartWorkflowId, customerGateWorkflowId } from '../../src/workflows/ids';
import { customerKey } from '../../src/workflows/keys';
import { checkoutUpdatedSignal, orderPlacedSignal } from '../../src/workflows/messages';

type History = temporal.api.history.v1.IHistory;
const EventType = {
  WorkflowExecutionStarted: 1,
  WorkflowTaskCompleted: 7,
  ActivityTaskScheduled: 10,
  ActivityTaskStarted: 11,
  TimerStarted: 17,
  MarkerRecorded: 25,
  WorkflowExecutionSignaled: 26,
  SignalExternalWorkflowExecutionInitiated: 37,
  UpsertWorkflowSearchAttributes: 40,
  WorkflowExecutionContinuedAsNew: 45,
} as const;

/** Marker name of a local activity's result (sdk-core); patches record `core_patch`. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity';
/** Written by the SDK for `patched()`; Temporal Cloud does not count it as an action. */
const CHANGE_VERSION_ATTRIBUTE = 'TemporalChangeVersion';

interface Count {
  actions: number;
  events: number;
  detail: Record<string, number>;
}

export function countActions(history: History): Count {
  const detail: Record<string, number> = {};
  const add = (what: string, n = 1) => (detail[what] = (detail[what] ?? 0) + n);
  let markerTask: number | null = null;
  let lastCompletedTask = 0;
  for (const event of history.events ?? []) {
    const type = Number(event.eventType);
    switch (type) {
      case EventType.WorkflowExecutionStarted:
        add('workflow started');
        break;
      case EventType.WorkflowExecutionSignaled:
        // A signal from another workflow was counted when it was sent.
        if (!event.workflowExecutionSignaledEventAttributes?.externalWorkflowExecution) add('signal');
        break;
      case EventType.TimerStarted:
        add('timer');
        break;
      case EventType.ActivityTaskScheduled:
        add('activity');
        break;
      case EventType.ActivityTaskStarted: {
        const retries = (event.activityTaskStartedEventAttributes?.attempt ?? 1) - 1;
        if (retries > 0) add('activity retry', retries);
        break;
      }
      case EventType.WorkflowTaskCompleted:
        lastCompletedTask = Number(event.eventId);
        break;
      case EventType.MarkerRecorded:
        // All local activities completed by one workflow task cost one action. Other markers
        // (a `patched()` call records `core_patch`) are not local activities and cost nothing.
        if (event.markerRecordedEventAttributes?.markerName !== LOCAL_ACTIVITY_MARKER) break;
        if (markerTask !== lastCompletedTask) add('local activities (per workflow task)');
        markerTask = lastCompletedTask;
        break;
      case EventType.SignalExternalWorkflowExecutionInitiated:
        add('signal');
        break;
      case EventType.UpsertWorkflowSearchAttributes: {
        // The SDK's own TemporalChangeVersion upsert (one per `patched()` id) is exempt.
        const keys = Object.keys(
          event.upsertWorkflowSearchAttributesEventAttributes?.searchAttributes?.indexedFields ?? {},
        );
        if (keys.some((key) => key !== CHANGE_VERSION_ATTRIBUTE)) add('search attribute upsert');
        break;
      }
      default:
        break;
    }
  }
  const actions = Object.values(detail).reduce((a, b) => a + b, 0);
  return { actions, events: history.events?.length ?? 0, detail };
}

interface Scenario {
  name: string;
  file: string;
  goal: number | null;
  /** False when another cart of the customer holds the gate (its actions are not this cart's). */
  holdsGate?: boolean;
  /** Faults the fake vendors play before the run. */
  arrange?: (vendors: FakeVendors) => void;
  run(rig: ReturnType<typeof cartRig>, token: string): Promise<void>;
}

const scenarios: Scenario[] = [
  {
    name: 'converted before abandonment',
    file: 'converted-before-abandonment.json',
    goal: 6,
    async run(rig, token) {
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.env.sleep(20 * 60_000);
      await rig.send(token, orderPlacedSignal, orderFor(token, t0 + 20 * 60_000));
      await rig.result(token);
    },
  },
  {
    name: 'full sequence, not recovered',
    file: 'full-sequence.json',
    goal: 30,
    async run(rig, token) {
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.result(token);
    },
  },
  {
    name: 'recovered after touch 2',
    file: 'recovered-after-touch-2.json',
    goal: null,
    async run(rig, token) {
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.env.sleep(8 * HOUR);
      await rig.send(token, orderPlacedSignal, orderFor(token, t0 + 8 * HOUR));
      await rig.result(token);
    },
  },
  {
    name: 'frequency capped, no order (watches for a late one)',
    file: 'frequency-capped.json',
    goal: null,
    holdsGate: false,
    async run(rig, token) {
      const t0 = await rig.now();
      const holder = `${token}-holder`; // same customer: it takes the gate first
      await rig.update(holder, snapshot(holder, t0));
      await rig.env.sleep(30 * 60_000);
      await rig.update(token, snapshot(token, t0 + 30 * 60_000));
      await rig.result(token);
    },
  },
  {
    name: 'touch 1 retried after Klaviyo refused our key once (reuses its live code)',
    file: 'touch-retried-after-credentials-refusal.json',
    goal: null,
    arrange: (vendors) => {
      vendors.credentialFailuresLeft = 1;
    },
    async run(rig, token) {
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.env.sleep(2 * HOUR);
      await rig.send(token, orderPlacedSignal, orderFor(token, t0 + 2 * HOUR));
      await rig.result(token);
    },
  },
  {
    name: 'Klaviyo down from touch 2 until touch 3 was due (catch-up: touch 2 skipped)',
    file: 'overdue-catch-up-after-klaviyo-outage.json',
    goal: null,
    async run(rig, token) {
      let down = false;
      rig.vendors.beforeSend = () =>
        down ? Promise.reject(new Error('Klaviyo answered 503 Service Unavailable')) : Promise.resolve();
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.env.sleep(2 * HOUR);
      down = true;
      await rig.env.sleep(23 * HOUR);
      down = false;
      await rig.env.sleep(HOUR);
      await rig.send(token, orderPlacedSignal, orderFor(token, t0 + 26 * HOUR));
      await rig.result(token);
    },
  },
  {
    name: 'checkout email changed after touch 1 (re-enriched, the new address is suppressed)',
    file: 'changed-address-after-touch-1.json',
    goal: null,
    arrange: (vendors) => {
      vendors.factsByEmail['bounced@example.com'] = { suppressed: true, suppressionReasons: ['HARD_BOUNCE'] };
    },
    async run(rig, token) {
      const t0 = await rig.now();
      await rig.update(token, snapshot(token, t0));
      await rig.env.sleep(2 * HOUR);
      await rig.update(token, snapshot(token, t0 + 2 * HOUR, { email: 'bounced@example.com' }));
      await rig.env.sleep(4 * HOUR);
      await rig.send(token, orderPlacedSignal, orderFor(token, t0 + 6 * HOUR));
      await rig.result(token);
    },
  },
];

async function runScenario(
  env: Awaited<ReturnType<typeof createTimeSkippingEnv>>,
  bundle: Awaited<ReturnType<typeof workflowBundle>>,
  scenario: Scenario,
  save: boolean,
): Promise<string> {
  const taskQueue = uniqueId(scenario.name);
  const vendors = new FakeVendors();
  scenario.arrange?.(vendors);
  const rig = cartRig(env, taskQueue, vendors);
  const worker = await cartWorker(env, taskQueue, vendors, bundle);
  const token = `bench-${scenario.file.replace('.json', '')}`;
  // Each scenario its own customer, so the gates do not cap each other.
  const email = `${token}@example.com`;
  // (a scenario that changes the address keeps its own)
  rig.update = (t, snap) =>
    rig.send(t, checkoutUpdatedSignal, {
      ...snap,
      email: snap.email === 'ada@example.com' ? email : snap.email,
    });
  await worker.runUntil(scenario.run(rig, token));

  const cartHistory = await env.client.workflow.getHandle(cartWorkflowId(SHOP, token)).fetchHistory();
  const cart = countActions(cartHistory);
  let gate: Count | null = null;
  if (scenario.holdsGate !== false)
    try {
      const gateHistory = await env.client.workflow
        .getHandle(customerGateWorkflowId(SHOP, customerKey(email)))
        .fetchHistory();
      gate = countActions(gateHistory);
    } catch {
      gate = null; // never abandoned: no gate
    }
  const total = cart.actions + (gate ? (gate.detail['workflow started'] ?? 0) + (gate.detail.timer ?? 0) : 0);
  const goal =
    scenario.goal === null ? '' : `${total <= scenario.goal ? 'met' : 'MISSED'} (≤ ${scenario.goal})`;
  const file = path.join(__dirname, '..', '..', 'test', 'histories', scenario.file);
  // Only a new scenario's history is written: a replay fixture is never refreshed.
  if (save && !fs.existsSync(file)) {
    fs.mkdirSync(path.dirname(file), { recursive: true });
    saveHistory(file, cartHistory);
  }
  const byKind = Object.entries(cart.detail)
    .map(([k, v]) => `${k} ${v}`)
    .join(', ');
  return `| ${scenario.name} | ${cart.actions} | ${total} | ${cart.events} | ${gate?.events ?? 0} | ${goal} | ${byKind} |`;
}

async function main() {
  const save = process.argv.includes('--save-histories');
  const only = process.env.BENCH_ONLY;
  const bundle = await workflowBundle(require.resolve('../../src/workflows'));
  const rows: string[] = [];
  for (const scenario of scenarios.filter((s) => !only || s.name.includes(only))) {
    // A server per scenario: what one leaves open (a gate in its cooldown, a timer nobody
    // polls any more) must not hold back time skipping for the next.
    const env = await createTimeSkippingEnv();
    try {
      await registerSearchAttributes(env);
      rows.push(await runScenario(env, bundle, scenario, save));
    } finally {
      await env.teardown();
    }
  }
  console.log(
    [
      `Date: ${new Date().toISOString().slice(0, 16).replace('T', ' ')} UTC`,
      `Machine: ${os.cpus().length} cores, ${Math.round(os.totalmem() / 2 ** 30)} GB, Node ${process.version}`,
      'Command: `npx tsx bench/actions/run.ts`',
      '',
      '| scenario | cart actions | with its customer gate | cart history events | gate history events | goal | cart actions by kind |',
      '| --- | --- | --- | --- | --- | --- | --- |',
      ...rows,
    ].join('\n'),
  );
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(err);
    process.exit(1);
  });
}
