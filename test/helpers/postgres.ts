/**
 * A real PostgreSQL for the tests: DATABASE_URL_TEST when given, otherwise a throwaway cluster
 * started from the Debian server binaries (`.ci/run` installs them), one per mocha process.
 * Each caller gets a database of its own, so test files never see each other's rows.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { randomUUID } from 'node:crypto';
import pg from 'pg';
import { freePort } from './ports';

let cluster: Promise<string | undefined> | undefined;

function serverBinDir(): string | undefined {
  const root = '/usr/lib/postgresql';
  if (!fs.existsSync(root)) return undefined;
  const versions = fs
    .readdirSync(root)
    .filter((v) => fs.existsSync(path.join(root, v, 'bin', 'postgres')))
    .sort((a, b) => Number(b) - Number(a));
  return versions[0] ? path.join(root, versions[0], 'bin') : undefined;
}

async function startCluster(): Promise<string | undefined> {
  if (process.env.DATABASE_URL_TEST) return process.env.DATABASE_URL_TEST;
  const bin = serverBinDir();
  if (!bin) return undefined;
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'cart-recovery-pg-'));
  // initdb refuses to run as root: run the server as the postgres system user then.
  const asRoot = process.getuid?.() === 0;
  const wrap = (cmd: string, args: string[]) =>
    (asRoot ? ['runuser', ['-u', 'postgres', '--', cmd, ...args]] : [cmd, args]) as [string, string[]];
  if (asRoot) execFileSync('chown', ['postgres', dir]);
  const port = await freePort();
  execFileSync(
    ...wrap(path.join(bin, 'initdb'), ['-D', path.join(dir, 'data'), '-U', 'postgres', '-A', 'trust']),
    { stdio: 'ignore' },
  );
  execFileSync(
    ...wrap(path.join(bin, 'pg_ctl'), [
      '-D',
      path.join(dir, 'data'),
      '-o',
      `-p ${port} -k ${dir} -c listen_addresses=127.0.0.1 -c fsync=off`,
      '-l',
      path.join(dir, 'log'),
      '-w',
      'start',
    ]),
    { stdio: 'ignore' },
  );
  process.once('exit', () => {
    spawnSync(...wrap(path.join(bin, 'pg_ctl'), ['-D', path.join(dir, 'data'), '-m', 'immediate', 'stop']), {
      stdio: 'ignore',
    });
    fs.rmSync(dir, { recursive: true, force: true });
  });
  return `postgres://postgres@127.0.0.1:${port}/postgres`;
}

/**
 * A fresh, empty PostgreSQL database URL, or undefined when no PostgreSQL server can be had
 * on this machine (the caller skips, saying so).
 */
export async function freshPostgresDatabase(): Promise<string | undefined> {
  cluster ??= startCluster();
  const base = await cluster;
  if (!base) return undefined;
  const name = `t_${randomUUID().replace(/-/g, '').slice(0, 16)}`;
  const admin = new pg.Client({ connectionString: base });
  await admin.connect();
  await admin.query(`CREATE DATABASE ${name}`);
  await admin.end();
  const url = new URL(base);
  url.pathname = `/${name}`;
  return url.toString();
}
