/**
 * `npm run customer-data -- --shop <domain> --email <email> [--customer-id <id>]`: what the app
 * holds about one customer of a shop, as JSON, for answering Shopify's `customers/data_request`
 * (the relay records each request; docs/relay.md). Reads the app database only.
 *
 * The routing index keeps emails only as hashes, so the email given here finds the rows; the
 * customer id, when given, also finds checkouts that carried no email.
 */
import { loadConfigOrExit } from '../config';
import { openDatabase, type Database } from '../db';
import { migrateRelay } from '../relay/migrations';
import { RelayStore, type CustomerRecords } from '../relay/store';
import { openMetricsStore, type TouchLink } from '../metrics/store';
import { createLinkSigner, resolveLinkSecret, type LinkSigner } from '../metrics/links';
import { cartWorkflowId, normaliseShopDomain } from '../workflows/ids';

export interface CustomerDataDeps {
  database: Database;
  signer: LinkSigner;
  /** METRICS_TIMEZONE: opening the metrics store in another zone would rebuild its rollups. */
  metricsTimeZone: string;
  out: (line: string) => void;
}

export interface CustomerData extends CustomerRecords {
  shop: string;
  email: string;
  customerId: string | null;
  /** Workflows of the customer's checkouts the relay has not seen close. */
  openWorkflowIds: string[];
  touchLinks: Omit<TouchLink, 'recipientHash'>[];
}

const USAGE =
  'usage: npm run customer-data -- --shop <shop.myshopify.com> --email <email> [--customer-id <id>]';

/** Runs the command; resolves to the process exit code. */
export async function customerDataCommand(args: string[], deps: CustomerDataDeps): Promise<number> {
  const option = (name: string) => {
    const i = args.indexOf(`--${name}`);
    const value = i >= 0 ? args[i + 1]?.trim() : undefined;
    return value && !value.startsWith('--') ? value : undefined;
  };
  const shopOption = option('shop');
  const email = option('email');
  if (!shopOption || !email) {
    deps.out(USAGE);
    return 64;
  }
  const shop = normaliseShopDomain(shopOption);
  const customerId = option('customer-id') ?? null;
  const records = await new RelayStore(deps.database).customerRecords(shop, { customerId, email });
  const links = await (
    await openMetricsStore(deps.database, { timeZone: deps.metricsTimeZone })
  ).linksForRecipient(deps.signer.recipientHash(email));
  const data: CustomerData = {
    shop,
    email,
    customerId,
    ...records,
    openWorkflowIds: records.checkouts
      .filter((c) => c.closedAt === null)
      .map((c) => cartWorkflowId(shop, c.checkoutToken)),
    touchLinks: links.filter((l) => l.shop === shop).map(({ recipientHash: _hash, ...link }) => link),
  };
  deps.out(JSON.stringify(data, null, 2));
  return 0;
}

async function main() {
  const config = loadConfigOrExit();
  const database = await openDatabase(config.database);
  try {
    await migrateRelay(database);
    process.exitCode = await customerDataCommand(process.argv.slice(2), {
      database,
      signer: createLinkSigner(resolveLinkSecret(config)),
      metricsTimeZone: config.metrics.timeZone,
      out: (line) => console.log(line),
    });
  } finally {
    await database.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`customer-data failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
