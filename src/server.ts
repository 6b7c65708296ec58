import { buildApp } from './app.js';
import { ConfigError, loadConfig } from './config.js';
import { openDatabase } from './db/client.js';
import { isEmptyDatabase, loadDemoContent } from './db/demo/load-demo.js';
import { siteUrls } from './lib/site-urls.js';
import { createLogger } from './logger.js';

function loadConfigOrExit() {
  try {
    return loadConfig();
  } catch (error) {
    if (error instanceof ConfigError) {
      process.stderr.write('Lede cannot start: the configuration is invalid.\n');
      for (const problem of error.problems) process.stderr.write(`  ${problem}\n`);
      process.exit(1);
    }
    throw error;
  }
}

async function main(): Promise<void> {
  const config = loadConfigOrExit();
  const logger = createLogger(config);
  const database = await openDatabase(config);
  await database.migrate();
  logger.info({ database: database.kind }, 'database ready, migrations applied');
  if (config.DEMO_CONTENT && (await isEmptyDatabase(database.db))) {
    const result = await loadDemoContent(database.db, { locale: config.DEFAULT_LOCALE, urls: siteUrls(config) });
    logger.info(result, 'empty database: demo content loaded');
  }

  const app = await buildApp(config, { database, logger });
  await app.listen({ port: config.PORT, host: config.HOST });

  let closing = false;
  const shutdown = (signal: string) => {
    if (closing) return;
    closing = true;
    logger.info({ signal }, 'shutting down: finishing in-flight requests');
    const deadline = setTimeout(() => {
      logger.error({ graceMs: config.SHUTDOWN_GRACE_MS }, 'shutdown took too long; exiting');
      process.exit(1);
    }, config.SHUTDOWN_GRACE_MS);
    deadline.unref();
    // app.close() stops accepting connections, waits for in-flight requests, then closes the database.
    app.close().then(
      () => {
        logger.info('shutdown complete');
        process.exit(0);
      },
      (error: unknown) => {
        logger.error({ err: error }, 'shutdown failed');
        process.exit(1);
      },
    );
  };
  process.once('SIGTERM', () => shutdown('SIGTERM'));
  process.once('SIGINT', () => shutdown('SIGINT'));
}

main().catch((error: unknown) => {
  process.stderr.write(`Lede failed to start: ${error instanceof Error ? error.message : String(error)}\n`);
  process.exit(1);
});
