/**
 * Saved workflow histories for the replay test, in Temporal's JSON form: the same file that
 * `temporal workflow show --output json` or the Web UI's download gives, so a history from
 * production can be added beside the generated ones.
 *
 * `protobufjs` is a direct devDependency for this: it lifts one copy of version 8 to the top of
 * node_modules, which every @temporalio package then shares. With the copies nested per package
 * (npm's layout when only gRPC's version 7 sits at the top), `historyToJSON` fails with "type
 * must be a Type".
 */
import fs from 'node:fs';
import { historyFromJSON, historyToJSON } from '@temporalio/common/lib/proto-utils';
import type { temporal } from '@temporalio/proto';

export function saveHistory(file: string, history: temporal.api.history.v1.IHistory): void {
  fs.writeFileSync(file, `${JSON.stringify(JSON.parse(historyToJSON(history)), null, 2)}\n`);
}

export function loadHistory(file: string): temporal.api.history.v1.IHistory {
  return historyFromJSON(JSON.parse(fs.readFileSync(file, 'utf8')));
}
