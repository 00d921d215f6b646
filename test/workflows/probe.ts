/** A test-only workflow that proves time skipping: it waits a long time and records signals. */
import { condition, defineQuery, defineSignal, setHandler, sleep } from '@temporalio/workflow';

export const pingSignal = defineSignal<[string]>('ping');
export const pingsQuery = defineQuery<string[]>('pings');

export async function longWait(waitMs: number): Promise<{ pings: string[]; elapsedMs: number }> {
  const pings: string[] = [];
  setHandler(pingSignal, (p) => void pings.push(p));
  setHandler(pingsQuery, () => pings);
  const started = Date.now();
  await sleep(waitMs);
  await condition(() => true);
  return { pings, elapsedMs: Date.now() - started };
}
