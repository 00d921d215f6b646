import assert from 'node:assert/strict';
import { migrate, toSqlite, type Database, type Migration } from '../src/db';
import { DATABASE_BACKENDS } from './helpers/databases';

const migrations: Migration[] = [
  {
    version: 1,
    description: 'items',
    sqlite: 'CREATE TABLE items (key TEXT PRIMARY KEY, amount INTEGER NOT NULL)',
    postgres: 'CREATE TABLE items (key TEXT PRIMARY KEY, amount INTEGER NOT NULL)',
  },
  {
    version: 2,
    description: 'items.note',
    sqlite: 'ALTER TABLE items ADD COLUMN note TEXT',
    postgres: 'ALTER TABLE items ADD COLUMN note TEXT',
  },
];

describe('toSqlite placeholder conversion', () => {
  it('maps $n placeholders to positional values, repeating reused ones', () => {
    assert.deepEqual(toSqlite('SELECT $2, $1, $2', ['a', 'b']), {
      sql: 'SELECT ?, ?, ?',
      params: ['b', 'a', 'b'],
    });
  });
  it('rejects a placeholder without a parameter', () => {
    assert.throws(() => toSqlite('SELECT $3', [1]), /\$3 has no parameter/);
  });
});

for (const { name, open } of DATABASE_BACKENDS) {
  describe(`database (${name})`, function () {
    let db: Database;
    before(async function () {
      db = await open();
      await migrate(db, 'test', migrations);
    });
    after(async () => {
      await db?.close();
    });

    it('applies each migration once, however often migrate runs', async () => {
      assert.deepEqual(await migrate(db, 'test', migrations), []);
      const rows = await db.query<{ version: number }>(
        'SELECT version FROM schema_migrations WHERE component = $1 ORDER BY version',
        ['test'],
      );
      assert.deepEqual(
        rows.map((r) => Number(r.version)),
        [1, 2],
      );
    });

    it('reports changed rows, so callers can tell an insert from a duplicate', async () => {
      const insert = 'INSERT INTO items (key, amount) VALUES ($1, $2) ON CONFLICT (key) DO NOTHING';
      assert.equal((await db.run(insert, ['a', 1])).changes, 1);
      assert.equal((await db.run(insert, ['a', 2])).changes, 0);
      assert.deepEqual(await db.query('SELECT key, amount FROM items WHERE key = $1', ['a']), [
        { key: 'a', amount: 1 },
      ]);
    });

    it('rolls back a transaction that throws', async () => {
      await assert.rejects(
        db.transaction(async (tx) => {
          await tx.run('INSERT INTO items (key, amount) VALUES ($1, $2)', ['rolled-back', 1]);
          throw new Error('boom');
        }),
        /boom/,
      );
      assert.deepEqual(await db.query('SELECT key FROM items WHERE key = $1', ['rolled-back']), []);
    });

    it('keeps statements from outside out of an open transaction', async () => {
      let release!: () => void;
      const held = new Promise<void>((r) => (release = r));
      const tx = db.transaction(async (t) => {
        await t.run('INSERT INTO items (key, amount) VALUES ($1, $2)', ['tx', 1]);
        await held;
        throw new Error('abort');
      });
      const outside = db.run('INSERT INTO items (key, amount) VALUES ($1, $2)', ['outside', 1]);
      release();
      await assert.rejects(tx, /abort/);
      await outside;
      const keys = (
        await db.query<{ key: string }>("SELECT key FROM items WHERE key IN ('tx', 'outside')")
      ).map((r) => r.key);
      assert.deepEqual(keys, ['outside']);
    });
  });
}
