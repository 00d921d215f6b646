import assert from 'node:assert/strict';
import { ConfigError, loadConfig } from '../src/config';
import { vendorModes } from '../src/vendors/modes';

/** The ConfigError loadConfig throws for `env`, and its message. */
function configProblem(env: Record<string, string>): string {
  let message = '';
  assert.throws(
    () => loadConfig(env),
    (err: unknown) => {
      message = (err as Error).message;
      return err instanceof ConfigError;
    },
  );
  return message;
}

const KEY = 'pk_0123456789abcdef0123456789abcdef00';

describe('vendor settings', function () {
  it('no vendor settings: every vendor is in the sandbox', () => {
    const config = loadConfig({});
    assert.equal(config.vendors.klaviyo.live, null);
    assert.equal(config.vendors.shopify.live, null);
    assert.equal(config.vendors.gorgias.live, null);
    assert.deepEqual(vendorModes(config), { klaviyo: 'sandbox', shopify: 'sandbox', gorgias: 'sandbox' });
  });

  it('fully configured vendors are live, and the modes say where', () => {
    const config = loadConfig({
      KLAVIYO_PRIVATE_API_KEY: KEY,
      SHOPIFY_SHOP_DOMAIN: 'MyStore.myshopify.com',
      SHOPIFY_ADMIN_ACCESS_TOKEN: 'shpat_x',
      DISCOUNT_CODE_SECRET: 'a-secret-of-sixteen-chars',
      GORGIAS_DOMAIN: 'mystore.gorgias.com',
      GORGIAS_USERNAME: 'agent@mystore.com',
      GORGIAS_API_KEY: 'g-key',
    });
    assert.deepEqual(vendorModes(config), {
      klaviyo: 'live (a.klaviyo.com)',
      shopify: 'live (mystore.myshopify.com, API 2025-10)',
      gorgias: 'live (mystore.gorgias.com)',
    });
    assert.equal(config.vendors.shopify.live?.baseUrl, 'https://mystore.myshopify.com');
    assert.equal(config.vendors.klaviyo.recoveryMetric, 'Cart Recovery Touch');
  });

  it('a half-configured vendor is a configuration error naming the missing variable', () => {
    assert.match(
      configProblem({ SHOPIFY_ADMIN_ACCESS_TOKEN: 'shpat_x' }),
      /SHOPIFY_SHOP_DOMAIN: expected a value, because SHOPIFY_ADMIN_ACCESS_TOKEN is set/,
    );
    assert.match(
      configProblem({ SHOPIFY_ADMIN_ACCESS_TOKEN: 'shpat_x', SHOPIFY_SHOP_DOMAIN: 'a.myshopify.com' }),
      /DISCOUNT_CODE_SECRET: expected a value/,
    );
    assert.match(
      configProblem({ SHOPIFY_SHOP_DOMAIN: 'a.myshopify.com' }),
      /SHOPIFY_ADMIN_ACCESS_TOKEN: expected a value/,
    );
    assert.match(
      configProblem({ GORGIAS_API_KEY: 'k' }),
      /GORGIAS_DOMAIN: expected a value.*\n.*GORGIAS_USERNAME: expected a value/,
    );
    assert.match(
      configProblem({ KLAVIYO_VIP_SEGMENT_ID: 'Abc123' }),
      /KLAVIYO_PRIVATE_API_KEY: expected a value, because KLAVIYO_VIP_SEGMENT_ID is set/,
    );
  });

  it('malformed vendor values are named with what is expected, secrets never echoed', () => {
    const message = configProblem({
      KLAVIYO_PRIVATE_API_KEY: 'AbC123',
      DISCOUNT_CODE_SECRET: 'short-secret',
    });
    assert.match(message, /KLAVIYO_PRIVATE_API_KEY: expected a Klaviyo private API key \(pk_\.\.\.\)/);
    assert.match(message, /DISCOUNT_CODE_SECRET: expected at least 16 characters/);
    assert.ok(!message.includes('AbC123') && !message.includes('short-secret'));
    assert.match(
      configProblem({ SHOPIFY_SHOP_DOMAIN: 'mystore.com' }),
      /SHOPIFY_SHOP_DOMAIN: expected the shop's myshopify\.com domain/,
    );
    assert.match(
      configProblem({ SHOPIFY_API_VERSION: '2025-07' }),
      /SHOPIFY_API_VERSION: expected 2025-10 or later/,
    );
    assert.match(configProblem({ VENDOR_HTTP_TIMEOUT: 'soon' }), /VENDOR_HTTP_TIMEOUT: expected a duration/);
    assert.match(configProblem({ EMAIL_LOCALE: 'not a locale!' }), /EMAIL_LOCALE: expected a BCP 47 locale/);
  });
});
