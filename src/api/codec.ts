/**
 * The codec endpoint (`POST /codec/decode`, `POST /codec/encode`) that lets the Temporal Web UI
 * and CLI show payloads sealed with TEMPORAL_PAYLOAD_KEYS (src/temporal/payload-encryption.ts).
 * Mounted only when keys are set. Opening a payload shows a shopper's personal data, so it
 * sits behind the dashboard's access rules (src/api/dashboard/auth.ts); the Web UI calls it from
 * the viewer's browser, so it answers CORS requests from the Web UI's origin only.
 */
import express, { Router, type Request, type Response } from 'express';
import { z } from 'zod';
import type { Payload } from '@temporalio/common';
import { temporalUiUrlOf, type Config } from '../config';
import { logger } from '../logger';
import { EncryptionCodec, PayloadDecryptionError } from '../temporal/payload-encryption';
import { dashboardAuth } from './dashboard/auth';

const base64 = z.string().regex(/^[A-Za-z0-9+/]*={0,2}$/, 'expected base64');
/** The protobuf JSON form the Web UI and CLI send: bytes as base64. */
const PayloadsBody = z.object({
  payloads: z.array(
    z.object({
      metadata: z.record(z.string(), base64).optional(),
      data: base64.optional(),
    }),
  ),
});
type JsonPayload = z.infer<typeof PayloadsBody>['payloads'][number];

const fromJson = (p: JsonPayload): Payload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
  ),
  data: Buffer.from(p.data ?? '', 'base64'),
});
const toJson = (p: Payload): JsonPayload => ({
  metadata: Object.fromEntries(
    Object.entries(p.metadata ?? {}).map(([k, v]) => [
      k,
      Buffer.from(v ?? new Uint8Array()).toString('base64'),
    ]),
  ),
  data: Buffer.from(p.data ?? new Uint8Array()).toString('base64'),
});

export function codecRouter(config: Config): Router | undefined {
  const keys = config.temporal.payloadKeys;
  if (!keys || config.dashboard.auth === 'disabled') return undefined;
  const codec = new EncryptionCodec(keys);
  const uiOrigin = new URL(temporalUiUrlOf(config)).origin;
  const router = Router();

  router.use((req, res, next) => {
    if (req.headers.origin === uiOrigin) {
      res.set({
        'Access-Control-Allow-Origin': uiOrigin,
        'Access-Control-Allow-Credentials': 'true',
        'Access-Control-Allow-Methods': 'POST',
        'Access-Control-Allow-Headers': 'Content-Type, Authorization, X-Namespace',
        Vary: 'Origin',
      });
    }
    // A preflight carries no credentials: it is answered before the access check.
    if (req.method === 'OPTIONS') {
      res.sendStatus(204);
      return;
    }
    next();
  });
  router.use(dashboardAuth(config), express.json({ limit: '4mb' }));

  const handle = (direction: 'encode' | 'decode') => async (req: Request, res: Response) => {
    const parsed = PayloadsBody.safeParse(req.body);
    if (!parsed.success) {
      res.status(400).json({ error: 'expected {"payloads": [{"metadata": {...}, "data": "<base64>"}]}' });
      return;
    }
    try {
      const payloads = await codec[direction](parsed.data.payloads.map(fromJson));
      res.json({ payloads: payloads.map(toJson) });
    } catch (err) {
      if (!(err instanceof PayloadDecryptionError)) throw err;
      logger.warn('codec endpoint could not open a payload', { reason: err.message });
      res.status(422).json({ error: err.message });
    }
  };
  router.post('/decode', handle('decode'));
  router.post('/encode', handle('encode'));
  return router;
}
