/**
 * Gorgias in the sandbox: a `GorgiasClient` keeping tickets on disk
 * (DATA_DIR/sandbox/gorgias-tickets). Like Gorgias, it does not itself refuse a second ticket
 * with the same external_id; the activity's look-up-before-create is what keeps it to one, here
 * as in production. It refuses what Gorgias refuses (bad email, over-long external_id).
 */
import { randomInt } from 'node:crypto';
import type { GorgiasClient, GorgiasTicketInput } from '../gorgias/client';
import { invalidRecipient, vendorRefused } from '../failures';
import { JsonDirectory } from './store';
import { sandboxPaths } from './paths';

export interface SandboxTicket extends GorgiasTicketInput {
  id: string;
  createdAt: string;
  status: 'open';
}

const EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;]+\.[A-Za-z]{2,}$/;

export interface SandboxGorgiasOptions {
  dataDir: string;
  now?: () => Date;
}

export class SandboxGorgias implements GorgiasClient {
  readonly tickets: JsonDirectory<SandboxTicket>;
  private readonly now: () => Date;

  constructor(options: SandboxGorgiasOptions) {
    this.tickets = new JsonDirectory<SandboxTicket>(sandboxPaths(options.dataDir).tickets);
    this.now = options.now ?? (() => new Date());
  }

  async findTicketByExternalId(externalId: string): Promise<{ id: string } | null> {
    const matches = (await this.tickets.all()).filter((t) => t.externalId === externalId);
    matches.sort((a, b) => Number(a.id) - Number(b.id));
    return matches[0] ? { id: matches[0].id } : null;
  }

  async createTicket(ticket: GorgiasTicketInput): Promise<{ id: string }> {
    const facts = {
      vendor: 'Gorgias' as const,
      operation: 'ticket creation',
      status: 400,
      codes: [] as string[],
    };
    if (!EMAIL.test(ticket.customerEmail)) {
      throw invalidRecipient(
        { ...facts, codes: ['customer.email'] },
        'the customer email address is not valid',
      );
    }
    if (ticket.externalId.length === 0 || ticket.externalId.length > 255) {
      throw vendorRefused({ ...facts, codes: ['external_id'] }, 'HTTP 400 invalid external_id');
    }
    if (ticket.subject.trim() === '' || (ticket.bodyText.trim() === '' && ticket.bodyHtml.trim() === '')) {
      throw vendorRefused(
        { ...facts, codes: ['messages.0.body_text'] },
        'HTTP 400 invalid messages.0.body_text',
      );
    }
    for (;;) {
      const id = String(randomInt(100_000, 2 ** 47));
      const created = await this.tickets.create(id, {
        ...ticket,
        id,
        createdAt: this.now().toISOString(),
        status: 'open',
      });
      if (created) return { id };
    }
  }
}
