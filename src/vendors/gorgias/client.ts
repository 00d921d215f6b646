/**
 * The Gorgias client: find a ticket by `external_id`, create a ticket; HTTP Basic auth over
 * axios. The `GorgiasClient` interface is the seam: the live implementation talks to
 * `https://<domain>.gorgias.com/api` (or a test fake), the sandbox implements it locally.
 */
import axios from 'axios';
import type { ApplicationFailure } from '@temporalio/common';
import {
  classifyTransport,
  invalidRecipient,
  unavailable,
  unexpected,
  vendorRefused,
  viewHttpError,
  type VendorErrorFacts,
} from '../failures';

export interface GorgiasTicketInput {
  /** At most 255 characters; our business key (or its hash). */
  externalId: string;
  subject: string;
  customerEmail: string;
  customerName: string | null;
  tags: string[];
  bodyText: string;
  bodyHtml: string;
  meta: Record<string, unknown>;
}

export interface GorgiasClient {
  findTicketByExternalId(externalId: string): Promise<{ id: string } | null>;
  createTicket(ticket: GorgiasTicketInput): Promise<{ id: string }>;
}

export interface GorgiasLiveSettings {
  baseUrl: string;
  username: string;
  apiKey: string;
  timeoutMs: number;
}

/** Field paths named in a Gorgias validation answer, e.g. `customer.email` (never the values). */
function invalidFields(data: unknown): string[] {
  const details = (data as { error?: { data?: unknown } } | null | undefined)?.error?.data;
  const out: string[] = [];
  const walk = (value: unknown, path: string, depth: number) => {
    if (depth > 4 || !value || typeof value !== 'object' || Array.isArray(value)) {
      if (path) out.push(path);
      return;
    }
    for (const [k, v] of Object.entries(value)) walk(v, path ? `${path}.${k}` : k, depth + 1);
  };
  walk(details, '', 0);
  return out;
}

export function gorgiasFailure(operation: string, err: unknown): ApplicationFailure {
  const view = viewHttpError(err);
  const facts: VendorErrorFacts = { vendor: 'Gorgias', operation, status: view?.status ?? null, codes: [] };
  if (!view) return unexpected(facts, err);
  const transport = classifyTransport(view, facts, {
    unauthorized: 'GORGIAS_USERNAME / GORGIAS_API_KEY',
    forbidden: 'GORGIAS_API_KEY (the user lacks permission to manage tickets)',
  });
  if (transport) return transport;
  const fields = invalidFields(view.data);
  facts.codes = fields;
  if (fields.some((f) => /email/i.test(f)))
    return invalidRecipient(facts, 'the customer email address is not valid');
  if (view.status === 404)
    return vendorRefused(facts, 'HTTP 404: no Gorgias API at this address (check GORGIAS_DOMAIN)');
  return vendorRefused(facts, `HTTP ${view.status}${fields.length ? ` invalid ${fields.join(', ')}` : ''}`);
}

interface TicketAnswer {
  id?: number | string;
}

export function createGorgiasClient(settings: GorgiasLiveSettings): GorgiasClient {
  const http = axios.create({
    baseURL: `${settings.baseUrl}/api`,
    timeout: settings.timeoutMs,
    auth: { username: settings.username, password: settings.apiKey },
    headers: { Accept: 'application/json', 'Content-Type': 'application/json' },
  });
  const idOf = (operation: string, ticket: TicketAnswer | undefined) => {
    if (ticket?.id === undefined || ticket.id === null) {
      throw unavailable(
        { vendor: 'Gorgias', operation, status: 200, codes: [] },
        'an answer without a ticket id',
      );
    }
    return { id: String(ticket.id) };
  };

  return {
    async findTicketByExternalId(externalId) {
      const operation = 'ticket lookup';
      let answer: { data?: TicketAnswer[] };
      try {
        ({ data: answer } = await http.get<{ data?: TicketAnswer[] }>('/tickets', {
          params: { external_id: externalId, limit: 1 },
        }));
      } catch (err) {
        throw gorgiasFailure(operation, err);
      }
      const first = answer?.data?.[0];
      return first ? idOf(operation, first) : null;
    },

    async createTicket(ticket) {
      const operation = 'ticket creation';
      const message = {
        channel: 'api',
        via: 'api',
        from_agent: false,
        sender: { email: ticket.customerEmail },
        subject: ticket.subject,
        body_text: ticket.bodyText,
        body_html: ticket.bodyHtml,
      };
      let created: TicketAnswer;
      try {
        ({ data: created } = await http.post<TicketAnswer>('/tickets', {
          channel: 'api',
          via: 'api',
          from_agent: false,
          subject: ticket.subject,
          external_id: ticket.externalId,
          customer: {
            email: ticket.customerEmail,
            ...(ticket.customerName ? { name: ticket.customerName } : {}),
          },
          tags: ticket.tags.map((name) => ({ name })),
          meta: ticket.meta,
          messages: [message],
        }));
      } catch (err) {
        throw gorgiasFailure(operation, err);
      }
      return idOf(operation, created);
    },
  };
}
