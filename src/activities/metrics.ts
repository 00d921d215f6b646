/**
 * The metrics activity (`recordMetric`), backed by the metrics store. Owned by the metrics work.
 */
import type { Config } from '../config';
import type { LocalActivities } from './contracts';

export interface MetricsActivities {
  local: LocalActivities;
  close(): Promise<void>;
}

export async function buildMetricsActivities(_config: Config): Promise<MetricsActivities> {
  await Promise.resolve();
  throw new Error('buildMetricsActivities: not implemented yet (metrics store)');
}
