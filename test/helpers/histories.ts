/**
 * Saved workflow histories for the replay test. Stored as the protobuf object form of
 * `temporal.api.history.v1.History` (enums and 64-bit numbers as strings, bytes as base64),
 * written and read with the same `@temporalio/proto` classes the SDK replays with.
 * (`historyToJSON` from @temporalio/common fails in this install: it carries a second copy of
 * protobufjs whose types the proto classes are not.)
 */
import fs from 'node:fs';
import { temporal } from '@temporalio/proto';

const History = temporal.api.history.v1.History;

export function saveHistory(file: string, history: temporal.api.history.v1.IHistory): void {
  const object = History.toObject(History.fromObject(history), {
    enums: String,
    longs: String,
    bytes: String,
    defaults: false,
  });
  fs.writeFileSync(file, `${JSON.stringify(object, null, 1)}\n`);
}

export function loadHistory(file: string): temporal.api.history.v1.History {
  return History.fromObject(JSON.parse(fs.readFileSync(file, 'utf8')) as Record<string, unknown>);
}
