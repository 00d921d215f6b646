/** Where each sandbox keeps its state under the data folder (DATA_DIR). */
import path from 'node:path';

export function sandboxPaths(dataDir: string) {
  const root = path.join(dataDir, 'sandbox');
  return {
    root,
    outboxMeta: path.join(root, 'outbox'),
    outboxHtml: path.join(root, 'outbox-html'),
    discounts: path.join(root, 'shopify-discounts'),
    tickets: path.join(root, 'gorgias-tickets'),
    /** Optional, written by hand: known customers, e.g. to see the loyalty and VIP paths. */
    klaviyoProfiles: path.join(root, 'klaviyo-profiles.json'),
    /** Optional, written by hand: variant facts, e.g. to see an out-of-stock cart. */
    shopifyCatalog: path.join(root, 'shopify-catalog.json'),
  };
}
