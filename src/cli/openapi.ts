import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { isDeepStrictEqual } from 'node:util';
import pino from 'pino';
import { buildApp } from '../app.js';
import { configFrom } from '../config.js';
import { openPglite } from '../db/pglite.js';

const DOCUMENT_PATH = fileURLToPath(new URL('../../openapi/openapi.json', import.meta.url));

/** The document as the app serves it with the default configuration (so it does not vary by machine). */
export async function generateOpenApiDocument(): Promise<unknown> {
  const config = configFrom({ LOG_LEVEL: 'silent' });
  const database = await openPglite({});
  const app = await buildApp(config, { database, logger: pino({ level: 'silent' }) });
  try {
    await app.ready();
    return JSON.parse(JSON.stringify(app.swagger())) as unknown;
  } finally {
    await app.close();
  }
}

async function main(mode: string | undefined): Promise<void> {
  const document = await generateOpenApiDocument();
  if (mode === 'write') {
    writeFileSync(DOCUMENT_PATH, `${JSON.stringify(document, null, 2)}\n`);
    process.stdout.write(`Wrote ${DOCUMENT_PATH}\n`);
    return;
  }
  if (mode === 'check') {
    let committed: unknown;
    try {
      committed = JSON.parse(readFileSync(DOCUMENT_PATH, 'utf8'));
    } catch {
      committed = undefined;
    }
    if (!isDeepStrictEqual(committed, document)) {
      process.stderr.write('openapi/openapi.json is stale: run `npm run openapi` and commit the result.\n');
      process.exit(1);
    }
    process.stdout.write('openapi/openapi.json is up to date.\n');
    return;
  }
  process.stderr.write('Usage: tsx src/cli/openapi.ts write|check\n');
  process.exit(2);
}

main(process.argv[2]).catch((error: unknown) => {
  process.stderr.write(`${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
  process.exit(1);
});
