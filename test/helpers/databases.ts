/**
 * The two database back ends every store suite runs on: SQLite (the default) and PostgreSQL
 * (production), so the same SQL is shown to behave the same on each. Each `open` gives a fresh,
 * empty database of the caller's own.
 */
import { openDatabase, type Database } from '../../src/db';
import { freshPostgresDatabase } from './postgres';

export interface DatabaseBackend {
  name: 'sqlite' | 'postgres';
  open: () => Promise<Database>;
}

export const DATABASE_BACKENDS: readonly DatabaseBackend[] = [
  { name: 'sqlite', open: () => openDatabase({ sqliteFile: ':memory:' }) },
  {
    name: 'postgres',
    async open() {
      const url = await freshPostgresDatabase();
      // CI installs PostgreSQL; a machine without it must not pass silently as if tested.
      if (!url)
        throw new Error(
          'no PostgreSQL server binaries (apt-get install postgresql) and no DATABASE_URL_TEST',
        );
      return openDatabase({ url, sqliteFile: '' });
    },
  },
];
