import { loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { loadDemoContent } from '../db/demo/load-demo.js';
import { siteUrls } from '../lib/site-urls.js';

/** `npm run demo`: loads the demo content into the configured database, skipping what is there. */
async function main(): Promise<void> {
  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const result = await loadDemoContent(database.db, { locale: config.DEFAULT_LOCALE, urls: siteUrls(config) });
    process.stdout.write(
      `Demo content: ${result.articlesCreated} article(s), ${result.timelineEntriesCreated} timeline entries created.\n`,
    );
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
