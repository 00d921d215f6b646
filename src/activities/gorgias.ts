/**
 * The Gorgias activity: a helpdesk ticket for a high-value abandoned cart, so a person can reach
 * out. Idempotent through `external_id` (our business key): look up first, create only if
 * absent, and return the ticket's id either way.
 */
import { createHash } from 'node:crypto';
import type { GorgiasActivities, SupportTicketInput } from '../workflows/contracts';
import type { GorgiasClient, GorgiasTicketInput } from '../vendors/gorgias/client';
import { escapeHtml } from '../vendors/html';
import { formatMoney, multiplyDecimal } from '../workflows/money';
import { isAbsoluteUrl, normaliseEmail, requireInput } from '../vendors/validate';
import { logger } from '../logger';

export interface GorgiasActivityDeps {
  client: GorgiasClient;
  locale: string;
}

const EXTERNAL_ID_MAX = 255;

/** Our key as Gorgias' `external_id` (at most 255 characters: longer keys are hashed). */
export function ticketExternalId(key: string): string {
  return key.length <= EXTERNAL_ID_MAX ? key : `sha256:${createHash('sha256').update(key).digest('hex')}`;
}

export function supportTicket(input: SupportTicketInput, email: string, locale: string): GorgiasTicketInput {
  const { checkout, segment } = input;
  const money = (amount: string) => formatMoney(amount, checkout.currency, locale);
  const name = [checkout.firstName, checkout.lastName].filter(Boolean).join(' ') || null;
  const subject = `Abandoned cart worth ${money(checkout.totalPrice)} (${segment})`;
  const lines = checkout.lineItems.map((item) => ({
    label: `${item.quantity} x ${item.title}${item.variantTitle ? ` (${item.variantTitle})` : ''}`,
    amount: money(multiplyDecimal(item.price, item.quantity)),
  }));
  const restore = checkout.restoreUrl && isAbsoluteUrl(checkout.restoreUrl) ? checkout.restoreUrl : null;
  const bodyText = [
    `${name ?? 'A customer'} <${email}> left a ${segment} cart worth ${money(checkout.totalPrice)} at ${input.shop}.`,
    '',
    ...lines.map((l) => `- ${l.label}: ${l.amount}`),
    '',
    restore ? `Restore link (opens their checkout): ${restore}` : 'No restore link was provided.',
    '',
    'Opened by cart-recovery; the automated email sequence continues unless they order.',
  ].join('\n');
  const bodyHtml = [
    `<p><strong>${escapeHtml(name ?? 'A customer')}</strong> &lt;${escapeHtml(email)}&gt; left a <strong>${escapeHtml(segment)}</strong> cart worth <strong>${escapeHtml(money(checkout.totalPrice))}</strong> at ${escapeHtml(input.shop)}.</p>`,
    `<ul>${lines.map((l) => `<li>${escapeHtml(l.label)}: ${escapeHtml(l.amount)}</li>`).join('')}</ul>`,
    restore
      ? `<p><a href="${escapeHtml(restore)}">Restore link</a> (opens their checkout)</p>`
      : '<p>No restore link was provided.</p>',
    '<p><em>Opened by cart-recovery; the automated email sequence continues unless they order.</em></p>',
  ].join('\n');
  return {
    externalId: ticketExternalId(input.key),
    subject,
    customerEmail: email,
    customerName: name,
    tags: ['cart-recovery', 'abandoned-cart', `segment-${segment}`],
    bodyText,
    bodyHtml,
    meta: {
      source: 'cart-recovery',
      shop: input.shop,
      checkout_token: checkout.token,
      cart_value: checkout.totalPrice,
      currency: checkout.currency,
      segment,
      restore_url: restore,
    },
  };
}

export function createGorgiasActivities(deps: GorgiasActivityDeps): GorgiasActivities {
  return {
    async createSupportTicket(input: SupportTicketInput): Promise<{ ticketId: string }> {
      const op = 'ticket creation';
      requireInput('Gorgias', op, input.key.trim() !== '', 'key', 'a business idempotency key');
      requireInput(
        'Gorgias',
        op,
        input.checkout.lineItems.length > 0,
        'checkout.lineItems',
        'at least one line item',
      );
      const email = normaliseEmail('Gorgias', op, input.checkout.email);
      const ticket = supportTicket(input, email, deps.locale);

      const existing = await deps.client.findTicketByExternalId(ticket.externalId);
      if (existing) {
        logger.info('gorgias: ticket already existed', { key: input.key, ticketId: existing.id });
        return { ticketId: existing.id };
      }
      const created = await deps.client.createTicket(ticket);
      logger.info('gorgias: ticket created', { key: input.key, ticketId: created.id });
      return { ticketId: created.id };
    },
  };
}
