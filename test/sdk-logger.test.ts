import assert from 'node:assert/strict';
import { SdkLogger } from '../src/temporal/runtime';

describe('SDK logger', () => {
  function captured() {
    const lines: string[] = [];
    const logger = new SdkLogger('WARN', (entry) => lines.push(`${entry.level} ${entry.message}`));
    return { logger, lines };
  }

  it('drops the warning of a vendor worker that deliberately runs no workflows', () => {
    const { logger, lines } = captured();
    logger.warn('No workflows registered, not polling for workflow tasks', { taskQueue: 'q-klaviyo' });
    assert.deepEqual(lines, []);
  });

  it('passes every other warning and error through, and still filters by level', () => {
    const { logger, lines } = captured();
    logger.warn('Workflow task failed', { workflowId: 'w' });
    logger.error('No workflows registered, not polling for workflow tasks');
    logger.info('worker state changed');
    assert.deepEqual(lines, [
      'WARN Workflow task failed',
      'ERROR No workflows registered, not polling for workflow tasks',
    ]);
  });
});
