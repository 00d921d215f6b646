/**
 * The sandbox's persistence: one JSON document per file in a directory under the data folder,
 * so sandbox state (codes, tickets, outbox) survives restarts and can be read by the API process
 * while the worker writes.
 *
 * `create` is atomic and exclusive: the document is written to a temporary file and hard-linked
 * to its name, which fails if the name exists. Readers never see half a document, and of two
 * concurrent creates of one name exactly one wins: the same guarantee a vendor's unique key gives.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';

/** A file name for any key: readable keys are kept, others (and long ones) are hashed. */
export function fileNameFor(key: string): string {
  if (/^[A-Za-z0-9._-]{1,100}$/.test(key) && !key.startsWith('.')) return key;
  return createHash('sha256').update(key).digest('hex').slice(0, 40);
}

export class JsonDirectory<T> {
  constructor(readonly dir: string) {}

  private file(name: string): string {
    return path.join(this.dir, `${fileNameFor(name)}.json`);
  }

  private async writeTemp(value: T): Promise<string> {
    await fs.mkdir(this.dir, { recursive: true });
    const temp = path.join(this.dir, `.tmp-${randomUUID()}`);
    await fs.writeFile(temp, `${JSON.stringify(value, null, 2)}\n`, { mode: 0o600 });
    return temp;
  }

  /** Stores `value` under `name` unless the name exists; true when this call created it. */
  async create(name: string, value: T): Promise<boolean> {
    const temp = await this.writeTemp(value);
    try {
      await fs.link(temp, this.file(name));
      return true;
    } catch (err) {
      const code = (err as NodeJS.ErrnoException).code;
      if (code === 'EEXIST') return false;
      // Some mounted volumes have no hard links: fall back to an exclusive (if not atomic) create.
      if (code === 'EPERM' || code === 'ENOTSUP' || code === 'ENOSYS' || code === 'EOPNOTSUPP') {
        return this.createWithoutLink(name, value);
      }
      throw err;
    } finally {
      await fs.rm(temp, { force: true });
    }
  }

  private async createWithoutLink(name: string, value: T): Promise<boolean> {
    try {
      await fs.writeFile(this.file(name), `${JSON.stringify(value, null, 2)}\n`, { flag: 'wx', mode: 0o600 });
      return true;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'EEXIST') return false;
      throw err;
    }
  }

  /** Replaces (or creates) the document atomically. */
  async put(name: string, value: T): Promise<void> {
    const temp = await this.writeTemp(value);
    await fs.rename(temp, this.file(name));
  }

  async get(name: string): Promise<T | undefined> {
    try {
      return JSON.parse(await fs.readFile(this.file(name), 'utf8')) as T;
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }

  /** Every document, in no particular order. */
  async all(): Promise<T[]> {
    let names: string[];
    try {
      names = await fs.readdir(this.dir);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw err;
    }
    const out: T[] = [];
    for (const name of names) {
      if (!name.endsWith('.json') || name.startsWith('.')) continue;
      try {
        out.push(JSON.parse(await fs.readFile(path.join(this.dir, name), 'utf8')) as T);
      } catch {
        // removed while listing, or not ours: skip
      }
    }
    return out;
  }
}
