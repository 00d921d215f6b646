/** The webhook topics the relay routes, and where Shopify delivers them. */

/** The one public path Shopify POSTs every webhook to (`subscribe-webhooks` registers it). */
export const WEBHOOK_PATH = '/webhooks/shopify';

/** The topics the relay routes that a shop subscribes to; `subscribe-webhooks` registers exactly these. */
export const RELAY_TOPICS = [
  'checkouts/create',
  'checkouts/update',
  'checkouts/delete',
  'carts/create',
  'carts/update',
  'orders/create',
  'orders/paid',
  'customers_email_marketing_consent/update',
] as const;

/**
 * Shopify's mandatory privacy webhooks, also routed by the relay. They cannot be subscribed
 * through the Admin API: the app's configuration names them (docs/relay.md).
 */
export const COMPLIANCE_TOPICS = ['customers/data_request', 'customers/redact', 'shop/redact'] as const;

export type RelayTopic = (typeof RELAY_TOPICS)[number] | (typeof COMPLIANCE_TOPICS)[number];
