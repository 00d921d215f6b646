/**
 * A local Gorgias REST API that checks what Gorgias checks: HTTP Basic auth, required message
 * fields (channel, via, from_agent, a body), 1..500 messages, an `external_id` of at most 255
 * characters, a valid customer email; lists tickets by `external_id`; answers 429 with
 * `Retry-after` and 5xx when told to. Like Gorgias, it does not refuse a duplicate external_id.
 */
import type { Request } from 'express';
import { FakeVendor, type Answer } from './server';

export interface FakeTicket {
  id: number;
  external_id: string | null;
  subject: string;
  customer: { email: string; name?: string };
  tags: { name: string }[];
  meta: Record<string, unknown>;
  messages: Record<string, unknown>[];
  status: 'open';
}

const EMAIL = /^[^\s@"<>,;]+@[^\s@"<>,;.]+(\.[^\s@"<>,;.]+)*\.[A-Za-z]{2,}$/;

export class FakeGorgias extends FakeVendor {
  readonly tickets: FakeTicket[] = [];
  private nextId = 4000;
  protected override retryAfterHeader = 'Retry-after';

  constructor(
    readonly username: string,
    readonly apiKey: string,
  ) {
    super();
    this.app.get(
      '/api/tickets',
      (req, res) => void this.answer('listTickets', req, res, () => this.auth(req) ?? this.list(req)),
    );
    this.app.post(
      '/api/tickets',
      (req, res) => void this.answer('createTicket', req, res, () => this.auth(req) ?? this.create(req)),
    );
  }

  protected errorBody(status: number): unknown {
    return { error: { msg: status === 429 ? 'Too many requests' : 'Internal server error' } };
  }

  private auth(req: Request): Answer | undefined {
    const expected = `Basic ${Buffer.from(`${this.username}:${this.apiKey}`).toString('base64')}`;
    if (req.get('authorization') !== expected)
      return { status: 401, body: { error: { msg: 'Unauthorized' } } };
    return undefined;
  }

  private list(req: Request): Answer {
    const q = new URL(req.originalUrl, 'http://fake').searchParams;
    const externalId = q.get('external_id');
    const limit = Number(q.get('limit') ?? 30);
    const matches = this.tickets
      .filter((t) => externalId === null || t.external_id === externalId)
      .slice(0, limit);
    return {
      status: 200,
      body: {
        object: 'list',
        uri: '/api/tickets',
        data: matches,
        meta: { prev_cursor: null, next_cursor: null },
      },
    };
  }

  private create(req: Request): Answer {
    const b = (req.body ?? {}) as Record<string, unknown>;
    const invalid: Record<string, unknown> = {};
    const customer = b.customer as { email?: unknown; name?: unknown } | undefined;
    if (!customer || typeof customer.email !== 'string' || !EMAIL.test(customer.email)) {
      invalid.customer = { email: ['Not a valid email address.'] };
    }
    if (b.external_id !== undefined && (typeof b.external_id !== 'string' || b.external_id.length > 255)) {
      invalid.external_id = ['Longer than maximum length 255.'];
    }
    const messages = b.messages;
    if (!Array.isArray(messages) || messages.length < 1 || messages.length > 500) {
      invalid.messages = ['Length must be between 1 and 500.'];
    } else {
      messages.forEach((m: Record<string, unknown>, index) => {
        const problems: Record<string, string[]> = {};
        if (typeof m.channel !== 'string') problems.channel = ['Missing data for required field.'];
        if (typeof m.via !== 'string') problems.via = ['Missing data for required field.'];
        if (typeof m.from_agent !== 'boolean') problems.from_agent = ['Missing data for required field.'];
        if (typeof m.body_text !== 'string' && typeof m.body_html !== 'string')
          problems.body_text = ['A body is required.'];
        if (Object.keys(problems).length) invalid[`messages.${index}`] = problems;
      });
    }
    if (Object.keys(invalid).length > 0)
      return { status: 400, body: { error: { msg: 'Validation error', data: invalid } } };
    const ticket: FakeTicket = {
      id: this.nextId++,
      external_id: typeof b.external_id === 'string' ? b.external_id : null,
      subject: typeof b.subject === 'string' ? b.subject : '',
      customer: {
        email: String(customer!.email),
        ...(typeof customer!.name === 'string' ? { name: customer!.name } : {}),
      },
      tags: Array.isArray(b.tags) ? (b.tags as { name: string }[]) : [],
      meta: (b.meta ?? {}) as Record<string, unknown>,
      messages: messages as Record<string, unknown>[],
      status: 'open',
    };
    this.tickets.push(ticket);
    return { status: 201, body: { ...ticket, uri: `/api/tickets/${ticket.id}/` } };
  }
}
