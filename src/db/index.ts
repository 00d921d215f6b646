/**
 * The application's own database (relay bookkeeping, metrics): SQLite in the data folder by
 * default, PostgreSQL in production (DATABASE_URL). One small interface over both, with
 * PostgreSQL-style `$1` placeholders everywhere; SQL that differs between the two lives beside
 * each migration, not in callers.
 */
import fs from 'node:fs';
import path from 'node:path';
import BetterSqlite3 from 'better-sqlite3';
import pg from 'pg';

export type DatabaseKind = 'sqlite' | 'postgres';

export interface Database {
  readonly kind: DatabaseKind;
  /** Rows of a query. */
  query<T = Record<string, unknown>>(sql: string, params?: readonly unknown[]): Promise<T[]>;
  /** A statement without rows; `changes` is the number of rows it inserted, updated or deleted. */
  run(sql: string, params?: readonly unknown[]): Promise<{ changes: number }>;
  /** Runs `fn` in a transaction on one connection; commits if it resolves, rolls back if it throws. */
  transaction<T>(fn: (tx: Database) => Promise<T>): Promise<T>;
  close(): Promise<void>;
}

export interface DatabaseOptions {
  /** postgres:// URL; undefined means SQLite at `sqliteFile`. */
  url?: string;
  sqliteFile: string;
}

export async function openDatabase(options: DatabaseOptions): Promise<Database> {
  if (options.url) {
    const pool = new pg.Pool({ connectionString: options.url, max: 10 });
    // Fail at start-up, not at the first webhook, when the database is unreachable.
    const probe = await pool.connect();
    probe.release();
    return postgresDatabase(pool);
  }
  if (options.sqliteFile !== ':memory:') fs.mkdirSync(path.dirname(options.sqliteFile), { recursive: true });
  const db = new BetterSqlite3(options.sqliteFile);
  db.pragma('journal_mode = WAL');
  db.pragma('busy_timeout = 5000');
  db.pragma('foreign_keys = ON');
  return sqliteDatabase(db);
}

/** `$1 ... $n` to SQLite's positional `?`, repeating values for repeated placeholders. */
export function toSqlite(sql: string, params: readonly unknown[]): { sql: string; params: unknown[] } {
  const ordered: unknown[] = [];
  const converted = sql.replace(/\$(\d+)/g, (_m, n: string) => {
    const index = Number(n) - 1;
    if (index < 0 || index >= params.length) throw new Error(`SQL placeholder $${n} has no parameter`);
    ordered.push(sqliteValue(params[index]));
    return '?';
  });
  return { sql: converted, params: ordered };
}

function sqliteValue(value: unknown): unknown {
  if (typeof value === 'boolean') return value ? 1 : 0;
  if (value instanceof Date) return value.toISOString();
  return value;
}

/**
 * better-sqlite3 is synchronous on one connection, so a transaction whose callback awaits would
 * let other callers' statements run inside it. `gate` serialises: statements from outside wait
 * for the open transaction to finish, and transactions run one at a time.
 */
function sqliteDatabase(db: BetterSqlite3.Database): Database {
  let gate: Promise<unknown> = Promise.resolve();
  // Callers use a small fixed set of statements: compile each once (prepare is a measurable
  // share of a webhook's CPU), but bound the cache in case a caller builds SQL dynamically.
  const prepared = new Map<string, BetterSqlite3.Statement>();
  const prepare = (sql: string) => {
    let stmt = prepared.get(sql);
    if (!stmt) {
      stmt = db.prepare(sql);
      if (prepared.size >= 500) prepared.clear();
      prepared.set(sql, stmt);
    }
    return stmt;
  };
  const exec = (sql: string, params: readonly unknown[]) => {
    const q = toSqlite(sql, params);
    const stmt = prepare(q.sql);
    return { stmt, params: q.params };
  };
  const direct = {
    query<T>(sql: string, params: readonly unknown[] = []): T[] {
      const { stmt, params: p } = exec(sql, params);
      return stmt.all(...p) as T[];
    },
    run(sql: string, params: readonly unknown[] = []): { changes: number } {
      const { stmt, params: p } = exec(sql, params);
      if (stmt.reader) {
        stmt.all(...p);
        return { changes: 0 };
      }
      return { changes: stmt.run(...p).changes };
    },
  };
  const inside: Database = {
    kind: 'sqlite',
    query: (sql, params) => Promise.resolve(direct.query(sql, params)),
    run: (sql, params) => Promise.resolve(direct.run(sql, params)),
    transaction: (fn) => fn(inside),
    close: () => Promise.resolve(),
  };
  return {
    kind: 'sqlite',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      await gate;
      return direct.query<T>(sql, params);
    },
    async run(sql: string, params: readonly unknown[] = []) {
      await gate;
      return direct.run(sql, params);
    },
    transaction<T>(fn: (tx: Database) => Promise<T>) {
      const result = gate.then(async () => {
        db.exec('BEGIN IMMEDIATE');
        try {
          const value = await fn(inside);
          db.exec('COMMIT');
          return value;
        } catch (err) {
          db.exec('ROLLBACK');
          throw err;
        }
      });
      gate = result.catch(() => undefined);
      return result;
    },
    async close() {
      await gate;
      db.close();
    },
  };
}

function postgresDatabase(pool: pg.Pool | pg.PoolClient, inTransaction = false): Database {
  const self: Database = {
    kind: 'postgres',
    async query<T>(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, params as unknown[]);
      return result.rows as T[];
    },
    async run(sql: string, params: readonly unknown[] = []) {
      const result = await pool.query(sql, params as unknown[]);
      return { changes: result.rowCount ?? 0 };
    },
    async transaction<T>(fn: (tx: Database) => Promise<T>) {
      if (inTransaction) return fn(self);
      const client = await (pool as pg.Pool).connect();
      try {
        await client.query('BEGIN');
        const result = await fn(postgresDatabase(client, true));
        await client.query('COMMIT');
        return result;
      } catch (err) {
        await client.query('ROLLBACK').catch(() => undefined);
        throw err;
      } finally {
        client.release();
      }
    },
    async close() {
      if (!inTransaction) await (pool as pg.Pool).end();
    },
  };
  return self;
}

export interface Migration {
  /** Increasing per component, never reused or edited once released. */
  version: number;
  description: string;
  sqlite: string;
  postgres: string;
}

/**
 * Apply a component's pending migrations in order, each in its own transaction, recording them
 * in `schema_migrations`. Safe to call at every start-up and from several processes (the
 * primary key on (component, version) rejects a second application).
 */
export async function migrate(
  db: Database,
  component: string,
  migrations: readonly Migration[],
): Promise<number[]> {
  await db.run(
    `CREATE TABLE IF NOT EXISTS schema_migrations (
       component TEXT NOT NULL,
       version INTEGER NOT NULL,
       description TEXT NOT NULL,
       applied_at TEXT NOT NULL,
       PRIMARY KEY (component, version)
     )`,
  );
  const done = new Set(
    (
      await db.query<{ version: number }>('SELECT version FROM schema_migrations WHERE component = $1', [
        component,
      ])
    ).map((r) => Number(r.version)),
  );
  const applied: number[] = [];
  for (const m of [...migrations].sort((a, b) => a.version - b.version)) {
    if (done.has(m.version)) continue;
    await db.transaction(async (tx) => {
      for (const statement of splitStatements(db.kind === 'sqlite' ? m.sqlite : m.postgres))
        await tx.run(statement);
      await tx.run(
        'INSERT INTO schema_migrations (component, version, description, applied_at) VALUES ($1, $2, $3, $4)',
        [component, m.version, m.description, new Date().toISOString()],
      );
    });
    applied.push(m.version);
  }
  return applied;
}

function splitStatements(sql: string): string[] {
  return sql
    .split(/;\s*(?:\n|$)/)
    .map((s) => s.trim())
    .filter(Boolean);
}
