import assert from 'node:assert/strict';
import fs from 'node:fs';
import path from 'node:path';
import { variables } from '../src/config';
import { renderSettingsTable, replaceSettingsBlock } from '../src/settings-doc';

const readme = fs.readFileSync(path.resolve(__dirname, '..', 'README.md'), 'utf8');

describe('README', () => {
  it('documents every setting the configuration module reads', () => {
    const missing = Object.keys(variables).filter((name) => !readme.includes(`\`${name}\``));
    assert.deepEqual(missing, [], 'run `npm run docs` to regenerate the settings table');
  });

  it('has a settings table identical to the one generated from src/config/variables.ts', () => {
    // Prettier may re-align the table: compare cell contents, not whitespace.
    const cells = (s: string) => s.replace(/[ \t]+/g, ' ').replace(/-{3,}/g, '---');
    assert.equal(cells(replaceSettingsBlock(readme, renderSettingsTable())), cells(readme));
  });

  it('gives the two commands for a fresh machine', () => {
    assert.match(readme, /npm install && npm start/);
    assert.match(readme, /npm install && npm test/);
  });
});
