/** Activity inputs as the workflow builds them, for the vendor suites. */
import type { IssueCodeInput, RecoveryEmail, SupportTicketInput } from '../../src/workflows/contracts';

export const SHOP = 'fake-shop.myshopify.com';

export function sampleEmail(overrides: Partial<RecoveryEmail> = {}): RecoveryEmail {
  return {
    key: `${SHOP}:tok-123:touch-2:send`,
    shop: SHOP,
    checkoutToken: 'tok-123',
    email: 'ada@example.com',
    firstName: 'Ada',
    touch: 2,
    totalTouches: 4,
    segment: 'welcome',
    subject: 'Your cart misses you',
    preheader: 'Saved for you, with 10% off',
    items: [
      {
        title: 'Linen Shirt',
        variantTitle: 'M / Blue',
        quantity: 2,
        price: '39.50',
        imageUrl: 'https://cdn.example.com/shirt.jpg',
        productUrl: 'https://shop.example.com/products/linen-shirt?variant=11',
      },
      {
        title: 'Tote <Bag> & Co',
        variantTitle: null,
        quantity: 1,
        price: '19.99',
        imageUrl: null,
        productUrl: null,
      },
    ],
    total: '98.99',
    currency: 'USD',
    restoreUrl: 'https://fake-shop.myshopify.com/123/checkouts/tok-123/recover?key=abc',
    discount: { code: 'BACK10-ABCDEFGHJK', percent: 10, expiresAt: '2026-11-27T18:00:00.000Z' },
    ...overrides,
  };
}

export function sampleCodeInput(overrides: Partial<IssueCodeInput> = {}): IssueCodeInput {
  return {
    key: `${SHOP}:tok-123:touch-2:code`,
    shop: SHOP,
    checkoutToken: 'tok-123',
    customerId: '7001',
    email: 'ada@example.com',
    percent: 10,
    startsAt: '2026-01-01T00:00:00.000Z',
    endsAt: '2030-11-27T18:00:00.000Z',
    ...overrides,
  };
}

export function sampleTicket(overrides: Partial<SupportTicketInput> = {}): SupportTicketInput {
  return {
    key: `${SHOP}:tok-123:ticket`,
    shop: SHOP,
    segment: 'premium',
    checkout: {
      token: 'tok-123',
      cartToken: 'cart-123',
      email: 'grace@example.com',
      customerId: '7002',
      firstName: 'Grace',
      lastName: 'Hopper',
      acceptsMarketing: true,
      lineItems: [
        {
          key: 'line-1',
          productId: '501',
          variantId: '11',
          title: 'Cashmere Coat',
          variantTitle: 'L',
          quantity: 1,
          price: '450.00',
          linePrice: '450.00',
          sku: 'COAT-L',
        },
      ],
      subtotalPrice: '450.00',
      totalPrice: '450.00',
      currency: 'USD',
      restoreUrl: 'https://fake-shop.myshopify.com/123/checkouts/tok-123/recover?key=abc',
      updatedAt: '2026-11-25T17:00:00.000Z',
      completedAt: null,
    },
    ...overrides,
  };
}
