/**
 * The sandbox outbox: what Klaviyo would have sent, rendered with the shipped templates and kept
 * on disk (DATA_DIR/sandbox/outbox*) for a person to open at /sandbox/outbox.
 *
 * Like Klaviyo, delivery is idempotent per (profile, metric, unique_id): the email's id is
 * derived from those, and a repeated event finds the email already there.
 */
import { createHash, randomUUID } from 'node:crypto';
import fs from 'node:fs/promises';
import path from 'node:path';
import { JsonDirectory } from './store';
import { sandboxPaths } from './paths';

export interface OutboxEmail {
  id: string;
  createdAt: string;
  to: string;
  subject: string;
  preheader: string;
  metric: string;
  uniqueId: string;
  shop: string | null;
  checkoutToken: string | null;
  segment: string | null;
  touch: number | null;
  totalTouches: number | null;
  discountCode: string | null;
  /** Why Klaviyo would have recorded the event but not sent the email (suppressed, unsubscribed); null: sent. */
  skipped: string | null;
}

export const OUTBOX_ID = /^[a-f0-9]{24}$/;

export function outboxEmailId(email: string, metric: string, uniqueId: string): string {
  return createHash('sha256').update(`${email}\n${metric}\n${uniqueId}`).digest('hex').slice(0, 24);
}

export class Outbox {
  private readonly meta: JsonDirectory<OutboxEmail>;
  private readonly htmlDir: string;

  constructor(dataDir: string) {
    const paths = sandboxPaths(dataDir);
    this.meta = new JsonDirectory<OutboxEmail>(paths.outboxMeta);
    this.htmlDir = paths.outboxHtml;
  }

  /** Stores the email unless one with the same id exists; returns the stored one and whether it is new. */
  async deliver(email: OutboxEmail, html: string): Promise<{ email: OutboxEmail; created: boolean }> {
    const existing = await this.meta.get(email.id);
    if (existing) return { email: existing, created: false };
    // The body first, then the entry that makes it visible: a crash in between leaves no
    // half-email in the index, and the retry writes both.
    await fs.mkdir(this.htmlDir, { recursive: true });
    const temp = path.join(this.htmlDir, `.tmp-${randomUUID()}`);
    await fs.writeFile(temp, html, { mode: 0o600 });
    await fs.rename(temp, path.join(this.htmlDir, `${email.id}.html`));
    const created = await this.meta.create(email.id, email);
    return { email: created ? email : ((await this.meta.get(email.id)) ?? email), created };
  }

  /** Newest first. */
  async list(limit = 200): Promise<{ emails: OutboxEmail[]; total: number }> {
    const all = await this.meta.all();
    all.sort((a, b) =>
      a.createdAt < b.createdAt ? 1 : a.createdAt > b.createdAt ? -1 : a.id < b.id ? 1 : -1,
    );
    return { emails: all.slice(0, limit), total: all.length };
  }

  async get(id: string): Promise<{ email: OutboxEmail; html: string } | undefined> {
    if (!OUTBOX_ID.test(id)) return undefined;
    const email = await this.meta.get(id);
    if (!email) return undefined;
    try {
      return { email, html: await fs.readFile(path.join(this.htmlDir, `${id}.html`), 'utf8') };
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === 'ENOENT') return undefined;
      throw err;
    }
  }
}
