import assert from 'node:assert/strict';
import { randomBytes } from 'node:crypto';
import type { AddressInfo } from 'node:net';
import type { Server } from 'node:http';
import express from 'express';
import type { Client } from '@temporalio/client';
import type { Payload } from '@temporalio/common';
import type { TestWorkflowEnvironment } from '@temporalio/testing';
import { Worker } from '@temporalio/worker';
import { ConfigError, loadConfig } from '../src/config';
import { codecRouter } from '../src/api/codec';
import { connectClient } from '../src/temporal/connection';
import {
  dataConverterFor,
  EncryptionCodec,
  ENCRYPTED_ENCODING,
  PayloadDecryptionError,
} from '../src/temporal/payload-encryption';
import { createTimeSkippingEnv, uniqueId, workflowBundle } from './helpers/temporal';
import { longWait, pingSignal } from './workflows/probe';

const HOUR = 3_600_000;
const EMAIL = 'shopper@example.com';
const key = (id: string) => ({ id, key: randomBytes(32) });
const setting = (...keys: { id: string; key: Buffer }[]) =>
  keys.map((k) => `${k.id}:${k.key.toString('base64')}`).join(',');

function jsonPayload(value: unknown): Payload {
  return {
    metadata: { encoding: Buffer.from('json/plain') },
    data: Buffer.from(JSON.stringify(value)),
  };
}
const text = (bytes: Uint8Array | null | undefined) =>
  Buffer.from(bytes ?? new Uint8Array()).toString('utf8');

describe('payload encryption', () => {
  describe('codec', () => {
    it('seals a payload so that its content is unreadable and opens it back exactly', async () => {
      const codec = new EncryptionCodec([key('k1')]);
      const original = jsonPayload({ email: EMAIL });
      const [sealed] = await codec.encode([original]);
      assert.equal(text(sealed!.metadata!.encoding), ENCRYPTED_ENCODING);
      assert.equal(text(sealed!.metadata!['encryption-key-id']), 'k1');
      assert.ok(!text(sealed!.data).includes(EMAIL), 'the email is not in the sealed bytes');
      const [opened] = await codec.decode([sealed!]);
      assert.equal(text(opened!.data), JSON.stringify({ email: EMAIL }));
      assert.equal(text(opened!.metadata!.encoding), 'json/plain');
    });

    it('seals with the first key and still opens payloads sealed with a retired one', async () => {
      const old = key('2025'),
        current = key('2026');
      const [sealedBefore] = await new EncryptionCodec([old]).encode([jsonPayload(1)]);
      const rotated = new EncryptionCodec([current, old]);
      const [sealedAfter] = await rotated.encode([jsonPayload(2)]);
      assert.equal(text(sealedAfter!.metadata!['encryption-key-id']), '2026');
      const opened = await rotated.decode([sealedBefore!, sealedAfter!]);
      assert.deepEqual(
        opened.map((p) => text(p.data)),
        ['1', '2'],
      );
    });

    it('refuses a payload whose key is no longer listed, naming the key', async () => {
      const [sealed] = await new EncryptionCodec([key('gone')]).encode([jsonPayload(1)]);
      await assert.rejects(
        new EncryptionCodec([key('other')]).decode([sealed!]),
        (err: Error) => err instanceof PayloadDecryptionError && /"gone"/.test(err.message),
      );
    });

    it('refuses an altered payload, and one relabelled to another key', async () => {
      const a = key('a'),
        b = { id: 'b', key: a.key };
      const codec = new EncryptionCodec([a, b]);
      const [sealed] = await codec.encode([jsonPayload({ email: EMAIL })]);
      const flipped = Buffer.from(sealed!.data!);
      flipped[20] = flipped[20]! ^ 1;
      await assert.rejects(codec.decode([{ ...sealed!, data: flipped }]), PayloadDecryptionError);
      const relabelled = {
        ...sealed!,
        metadata: { ...sealed!.metadata, 'encryption-key-id': Buffer.from('b') },
      };
      await assert.rejects(codec.decode([relabelled]), PayloadDecryptionError);
    });

    it('passes payloads that were never sealed through unchanged (histories from before)', async () => {
      const plain = jsonPayload({ email: EMAIL });
      const [opened] = await new EncryptionCodec([key('k')]).decode([plain]);
      assert.equal(opened, plain);
    });
  });

  describe('setting', () => {
    function problemsOf(value: string): string[] {
      try {
        loadConfig({ TEMPORAL_PAYLOAD_KEYS: value });
        return [];
      } catch (err) {
        if (err instanceof ConfigError) return err.problems;
        throw err;
      }
    }

    it('reads the keys in order, the active one first', () => {
      const a = key('2026-11'),
        b = key('2026-05');
      const keys = loadConfig({ TEMPORAL_PAYLOAD_KEYS: setting(a, b) }).temporal.payloadKeys;
      assert.deepEqual(
        keys?.map((k) => [k.id, k.key.toString('hex')]),
        [a, b].map((k) => [k.id, k.key.toString('hex')]),
      );
      assert.equal(dataConverterFor(undefined), undefined, 'no keys: plain payloads');
    });

    it('names the variable for a short key or a repeated id, without echoing the secret', () => {
      const short = `k1:${randomBytes(16).toString('base64')}`;
      const [problem] = problemsOf(short);
      assert.match(problem!, /^TEMPORAL_PAYLOAD_KEYS: expected a comma-separated list of <key id>:<32 bytes/);
      assert.ok(!problem!.includes(short.slice(3)), 'the key is not shown');
      const k = key('same');
      assert.match(problemsOf(setting(k, k))[0]!, /^TEMPORAL_PAYLOAD_KEYS: expected each key id once/);
    });
  });

  describe('on the Temporal server', function () {
    let env: TestWorkflowEnvironment;
    let client: Client;
    const keys = [key('k1')];
    before(async () => {
      env = await createTimeSkippingEnv();
      // The production client, built from the settings as the worker and the API build theirs.
      client = await connectClient(
        loadConfig({ TEMPORAL_ADDRESS: env.address, TEMPORAL_PAYLOAD_KEYS: setting(...keys) }),
      );
    });
    after(async () => {
      await client?.connection.close();
      await env?.teardown();
    });

    it('stores the workflow input, signals and result sealed, and the worker opens them', async function () {
      const taskQueue = uniqueId(this.test!.title);
      const worker = await Worker.create({
        connection: env.nativeConnection,
        taskQueue,
        workflowBundle: await workflowBundle(require.resolve('./workflows/probe')),
        dataConverter: dataConverterFor(keys),
      });
      const result = await worker.runUntil(async () => {
        const handle = await client.workflow.start(longWait, {
          taskQueue,
          workflowId: uniqueId(this.test!.title),
          args: [HOUR],
        });
        await handle.signal(pingSignal, EMAIL);
        await env.sleep(HOUR);
        return { value: await handle.result(), workflowId: handle.workflowId };
      });
      assert.deepEqual(result.value.pings, [EMAIL], 'the workflow saw the signal in clear');

      const { history } = await env.client.workflowService.getWorkflowExecutionHistory({
        namespace: 'default',
        execution: { workflowId: result.workflowId },
      });
      const payloads = (history?.events ?? []).flatMap((e) => [
        ...(e.workflowExecutionStartedEventAttributes?.input?.payloads ?? []),
        ...(e.workflowExecutionSignaledEventAttributes?.input?.payloads ?? []),
        ...(e.workflowExecutionCompletedEventAttributes?.result?.payloads ?? []),
      ]);
      assert.equal(payloads.length, 3, 'input, signal and result are in the history');
      for (const p of payloads) {
        assert.equal(text(p.metadata?.encoding), ENCRYPTED_ENCODING);
        assert.ok(!text(p.data).includes(EMAIL), 'no email in what the server stores');
      }
    });
  });

  describe('codec endpoint for the Web UI', () => {
    const keys = [key('k1')];
    const TOKEN = 'codec-test-token-0123456789';
    const UI = 'https://temporal-ui.example.com';
    let server: Server;
    let base: string;
    before(async () => {
      const config = loadConfig({
        TEMPORAL_ADDRESS: 'temporal.example.com:7233',
        TEMPORAL_UI_URL: UI,
        TEMPORAL_PAYLOAD_KEYS: setting(...keys),
        DASHBOARD_TOKEN: TOKEN,
      });
      const app = express();
      app.use('/codec', codecRouter(config)!);
      server = app.listen(0, '127.0.0.1');
      await new Promise((r) => server.once('listening', r));
      base = `http://127.0.0.1:${(server.address() as AddressInfo).port}/codec`;
    });
    after(() => server?.close());

    const asJson = (p: Payload) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v).toString('base64')]),
      ),
      data: Buffer.from(p.data!).toString('base64'),
    });
    const post = (path: string, body: unknown, headers: Record<string, string> = {}) =>
      fetch(`${base}${path}`, {
        method: 'POST',
        headers: { 'content-type': 'application/json', ...headers },
        body: JSON.stringify(body),
      });

    it('opens sealed payloads for a viewer with the dashboard token', async () => {
      const [sealed] = await new EncryptionCodec(keys).encode([jsonPayload({ email: EMAIL })]);
      const res = await post(
        '/decode',
        { payloads: [asJson(sealed!)] },
        { authorization: `Bearer ${TOKEN}` },
      );
      assert.equal(res.status, 200);
      const body = (await res.json()) as { payloads: { data: string }[] };
      assert.equal(
        Buffer.from(body.payloads[0]!.data, 'base64').toString(),
        JSON.stringify({ email: EMAIL }),
      );
    });

    it('refuses a viewer without credentials', async () => {
      const [sealed] = await new EncryptionCodec(keys).encode([jsonPayload({ email: EMAIL })]);
      const res = await post('/decode', { payloads: [asJson(sealed!)] });
      assert.equal(res.status, 401);
      assert.ok(!(await res.text()).includes(EMAIL));
    });

    it("answers the Web UI's preflight, and no other origin's", async () => {
      const preflight = (origin: string) =>
        fetch(`${base}/decode`, {
          method: 'OPTIONS',
          headers: { origin, 'access-control-request-method': 'POST' },
        });
      const ui = await preflight(UI);
      assert.equal(ui.status, 204);
      assert.equal(ui.headers.get('access-control-allow-origin'), UI);
      assert.match(ui.headers.get('access-control-allow-headers') ?? '', /X-Namespace/);
      const other = await preflight('https://elsewhere.example.com');
      assert.equal(other.headers.get('access-control-allow-origin'), null);
    });

    it('answers 422 for a payload it cannot open and 400 for a malformed request', async () => {
      const [foreign] = await new EncryptionCodec([key('not-ours')]).encode([jsonPayload(1)]);
      const auth = { authorization: `Bearer ${TOKEN}` };
      const unknown = await post('/decode', { payloads: [asJson(foreign!)] }, auth);
      assert.equal(unknown.status, 422);
      assert.match(((await unknown.json()) as { error: string }).error, /"not-ours"/);
      assert.equal((await post('/decode', { payload: [] }, auth)).status, 400);
    });

    it('is not mounted when no keys are set', () => {
      assert.equal(codecRouter(loadConfig({ DASHBOARD_TOKEN: TOKEN })), undefined);
    });
  });
});
