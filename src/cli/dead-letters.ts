/**
 * `npm run dead-letters -- <command>`: genuine webhooks the relay could not use are kept with
 * their reason, headers (minus the signature) and raw body. After fixing the cause (a relay
 * upgrade, a configuration change), replay them: each goes through the same parsing, routing
 * and hand-over as a live delivery, and leaves the list when it is handed over.
 *
 *   list [--all]          pending letters (with --all also the replayed ones)
 *   show <id>             one letter with its headers and body
 *   replay [<id> ...]     replay the given letters, or every pending one
 */
import type { Client } from '@temporalio/client';
import { loadConfigOrExit, type Config } from '../config';
import { openDatabase, type Database } from '../db';
import { connectClient } from '../temporal/connection';
import { PrometheusRegistry } from '../prometheus';
import { createRelay } from '../relay';
import { migrateRelay } from '../relay/migrations';
import { RelayStore, type DeadLetter } from '../relay/store';
import { openMetricsStore } from '../metrics/store';
import { createLinkSigner, resolveLinkSecret } from '../metrics/links';

export interface DeadLettersDeps {
  config: Config;
  database: Database;
  /** Connects to Temporal; called only by `replay`. */
  client: () => Promise<Client>;
  out: (line: string) => void;
}

const USAGE = 'usage: npm run dead-letters -- list [--all] | show <id> | replay [<id> ...]';

/** Runs one command; resolves to the process exit code. */
export async function deadLettersCommand(args: string[], deps: DeadLettersDeps): Promise<number> {
  const [command, ...rest] = args;
  const store = new RelayStore(deps.database);
  const ids = rest.filter((a) => !a.startsWith('--')).map(Number);
  if (ids.some((id) => !Number.isInteger(id) || id <= 0)) {
    deps.out(`expected dead-letter ids (whole numbers), got: ${rest.join(' ')}\n${USAGE}`);
    return 64;
  }
  switch (command) {
    case 'list': {
      const letters = await store.listDeadLetters({ pendingOnly: !rest.includes('--all') });
      if (letters.length === 0) {
        deps.out(rest.includes('--all') ? 'No dead letters.' : 'No pending dead letters.');
        return 0;
      }
      for (const l of letters) deps.out(summary(l));
      return 0;
    }
    case 'show': {
      if (ids.length !== 1) {
        deps.out(`show needs exactly one id\n${USAGE}`);
        return 64;
      }
      const [letter] = await store.listDeadLetters({ ids });
      if (!letter) {
        deps.out(`No dead letter ${ids[0]}.`);
        return 1;
      }
      deps.out(summary(letter));
      deps.out(`headers: ${JSON.stringify(letter.headers, null, 2)}`);
      deps.out(`body (${letter.rawBody.length} bytes):\n${letter.rawBody.toString('utf8')}`);
      return 0;
    }
    case 'replay': {
      const letters = await store.listDeadLetters(ids.length ? { ids } : { pendingOnly: true });
      const missing = ids.filter((id) => !letters.some((l) => l.id === id));
      if (missing.length) deps.out(`No dead letter ${missing.join(', ')}.`);
      const pending = letters.filter((l) => l.replayedAt === null);
      for (const l of letters.filter((x) => x.replayedAt !== null))
        deps.out(`#${l.id} already replayed at ${l.replayedAt} (${l.replayOutcome}); skipped`);
      if (pending.length === 0) {
        deps.out('Nothing to replay.');
        return missing.length ? 1 : 0;
      }
      const relay = createRelay({
        config: deps.config,
        client: await deps.client(),
        database: deps.database,
        registry: new PrometheusRegistry(),
        // A replayed compliance webhook erases metrics rows as a live one does.
        metrics: {
          store: await openMetricsStore(deps.database, { timeZone: deps.config.metrics.timeZone }),
          signer: createLinkSigner(resolveLinkSecret(deps.config)),
        },
      });
      let failed = 0;
      for (const letter of pending) {
        const answer = await relay.replay(letter);
        if (answer.status === 503) {
          deps.out(`#${letter.id} not replayed: Temporal or the database is unavailable; try again later`);
          return 75; // EX_TEMPFAIL: the remaining letters stay pending
        }
        if (answer.outcome === 'dead_letter') {
          failed++;
          deps.out(`#${letter.id} still unusable: ${String(answer.body.reason)}`);
        } else {
          deps.out(`#${letter.id} replayed: ${answer.outcome}`);
        }
      }
      deps.out(`Replayed ${pending.length - failed} of ${pending.length}.`);
      return failed > 0 || missing.length > 0 ? 1 : 0;
    }
    default:
      deps.out(USAGE);
      return 64;
  }
}

function summary(l: DeadLetter): string {
  const state = l.replayedAt ? `replayed ${l.replayedAt} (${l.replayOutcome})` : 'pending';
  return [
    `#${l.id}`,
    l.receivedAt,
    l.shop,
    l.topic,
    `delivery ${l.deliveryKey}`,
    state,
    l.replayAttempts ? `${l.replayAttempts} replay attempt(s)` : '',
    `reason: ${l.reason}`,
  ]
    .filter(Boolean)
    .join('  ');
}

async function main() {
  const config = loadConfigOrExit();
  const database = await openDatabase(config.database);
  await migrateRelay(database);
  let client: Client | undefined;
  try {
    const code = await deadLettersCommand(process.argv.slice(2), {
      config,
      database,
      client: async () => (client = await connectClient(config)),
      out: (line) => console.log(line),
    });
    process.exitCode = code;
  } finally {
    await client?.connection.close();
    await database.close();
  }
}

if (require.main === module) {
  main().catch((err: unknown) => {
    console.error(`dead-letters failed: ${err instanceof Error ? err.message : String(err)}`);
    process.exit(1);
  });
}
