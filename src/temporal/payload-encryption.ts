/**
 * End-to-end encryption of what this system hands to Temporal. A cart's workflow input, its
 * signals, activity arguments and results carry the shopper's email, name and cart: with
 * TEMPORAL_PAYLOAD_KEYS set, every payload is sealed with AES-256-GCM in this process before it
 * leaves for the Temporal server (or Temporal Cloud), and opened only here. Search attributes
 * are not payloads and stay readable (shop, stage, segment, value: no personal data).
 *
 * Key rotation: the first key seals; every listed key opens, chosen by the key id stored in the
 * payload's metadata. Payloads that were never sealed (histories from before encryption was
 * turned on) pass through unchanged, so turning it on needs no migration.
 *
 * The Web UI and the CLI show sealed payloads as binary; the codec endpoint (src/api/codec.ts)
 * opens them for an authorised viewer.
 */
import { createCipheriv, createDecipheriv, randomBytes } from 'node:crypto';
import type { DataConverter, Payload, PayloadCodec } from '@temporalio/common';
import { temporal } from '@temporalio/proto';

export const ENCRYPTED_ENCODING = 'binary/encrypted';
export const KEY_ID_METADATA = 'encryption-key-id';

const IV_BYTES = 12;
const TAG_BYTES = 16;
const utf8 = new TextEncoder();
const fromUtf8 = new TextDecoder();

export interface PayloadKey {
  id: string;
  /** 32 bytes (AES-256). */
  key: Buffer;
}

export class PayloadDecryptionError extends Error {
  constructor(message: string) {
    super(message);
    this.name = 'PayloadDecryptionError';
  }
}

export class EncryptionCodec implements PayloadCodec {
  private readonly byId: Map<string, Buffer>;
  private readonly sealing: PayloadKey;

  /** `keys[0]` seals new payloads; all of them open. */
  constructor(keys: readonly PayloadKey[]) {
    if (keys.length === 0) throw new Error('EncryptionCodec needs at least one key');
    for (const k of keys) {
      if (k.key.length !== 32) throw new Error(`payload key ${k.id}: expected 32 bytes, got ${k.key.length}`);
    }
    this.sealing = keys[0]!;
    this.byId = new Map(keys.map((k) => [k.id, k.key]));
  }

  encode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.seal(payload)));
  }

  decode(payloads: Payload[]): Promise<Payload[]> {
    return Promise.resolve().then(() => payloads.map((payload) => this.open(payload)));
  }

  private seal(payload: Payload): Payload {
    const iv = randomBytes(IV_BYTES);
    const cipher = createCipheriv('aes-256-gcm', this.sealing.key, iv);
    // The key id is authenticated too: a payload cannot be relabelled to another key.
    cipher.setAAD(utf8.encode(this.sealing.id));
    const plain = temporal.api.common.v1.Payload.encode(payload).finish();
    const sealed = Buffer.concat([iv, cipher.update(plain), cipher.final(), cipher.getAuthTag()]);
    return {
      metadata: {
        encoding: utf8.encode(ENCRYPTED_ENCODING),
        [KEY_ID_METADATA]: utf8.encode(this.sealing.id),
      },
      data: sealed,
    };
  }

  private open(payload: Payload): Payload {
    const encoding = payload.metadata?.encoding;
    if (!encoding || fromUtf8.decode(encoding) !== ENCRYPTED_ENCODING) return payload;
    const idBytes = payload.metadata?.[KEY_ID_METADATA];
    const id = idBytes ? fromUtf8.decode(idBytes) : '';
    const key = this.byId.get(id);
    if (!key) {
      throw new PayloadDecryptionError(
        `payload sealed with key "${id}", which TEMPORAL_PAYLOAD_KEYS does not hold (keep retired keys listed after the active one)`,
      );
    }
    const data = Buffer.from(payload.data ?? new Uint8Array());
    if (data.length < IV_BYTES + TAG_BYTES) throw new PayloadDecryptionError('sealed payload is truncated');
    const decipher = createDecipheriv('aes-256-gcm', key, data.subarray(0, IV_BYTES));
    decipher.setAAD(utf8.encode(id));
    decipher.setAuthTag(data.subarray(data.length - TAG_BYTES));
    let plain: Buffer;
    try {
      plain = Buffer.concat([
        decipher.update(data.subarray(IV_BYTES, data.length - TAG_BYTES)),
        decipher.final(),
      ]);
    } catch {
      throw new PayloadDecryptionError(
        `sealed payload failed authentication with key "${id}" (altered or wrong key)`,
      );
    }
    return temporal.api.common.v1.Payload.decode(plain);
  }
}

/** The data converter of every client and worker: encryption when keys are configured. */
export function dataConverterFor(keys: readonly PayloadKey[] | undefined): DataConverter | undefined {
  return keys && keys.length > 0 ? { payloadCodecs: [new EncryptionCodec(keys)] } : undefined;
}
