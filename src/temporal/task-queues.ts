import type { Config } from '../config';
import type { ActivityTaskQueues } from '../workflows/messages';

/** The workflow queue and the per-vendor activity queues derived from it. */
export function taskQueues(config: Config): Required<ActivityTaskQueues> & { workflows: string } {
  const base = config.temporal.taskQueue;
  return {
    workflows: base,
    klaviyo: `${base}-klaviyo`,
    klaviyoProfiles: `${base}-klaviyo-profiles`,
    shopify: `${base}-shopify`,
    gorgias: `${base}-gorgias`,
  };
}
