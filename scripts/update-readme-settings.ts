/**
 * Rewrites the settings table in README.md from the `variables` table of src/config/variables.ts, so the
 * documented settings are exactly the ones the system reads. `npm run docs`; a test fails when
 * the README is stale.
 */
import fs from 'node:fs';
import path from 'node:path';
import { renderSettingsTable, replaceSettingsBlock } from '../src/settings-doc';

const readme = path.resolve(__dirname, '..', 'README.md');
const before = fs.readFileSync(readme, 'utf8');
const after = replaceSettingsBlock(before, renderSettingsTable());
if (after !== before) {
  fs.writeFileSync(readme, after);
  console.log('README.md: settings table updated');
} else console.log('README.md: settings table already up to date');
