import { parseArgs } from 'node:util';
import { API_KEY_ROLES, type ApiKeyRole } from '../db/schema/keys.js';
import { ConfigError, loadConfig } from '../config.js';
import { openDatabase } from '../db/client.js';
import { displayPrefix } from '../modules/keys/key-secret.js';
import { keysService } from '../modules/keys/keys.service.js';

const USAGE = `Usage:
  npm run keys -- create --role reader|editor|admin --name NAME   prints the new key as the last line
  npm run keys -- list                                              lists keys (never the keys themselves)
  npm run keys -- revoke --id UUID                                  revokes a key`;

function fail(message: string): never {
  process.stderr.write(`${message}\n\n${USAGE}\n`);
  process.exit(2);
}

async function main(): Promise<void> {
  let parsed;
  try {
    parsed = parseArgs({
      args: process.argv.slice(2),
      options: { role: { type: 'string' }, name: { type: 'string' }, id: { type: 'string' } },
      allowPositionals: true,
      strict: true,
    });
  } catch (error) {
    fail((error as Error).message);
  }
  const [command] = parsed.positionals;
  const { role, name, id } = parsed.values;
  if (command !== 'create' && command !== 'list' && command !== 'revoke') fail('Unknown or missing command.');
  if (command === 'create') {
    if (!role || !API_KEY_ROLES.includes(role as ApiKeyRole)) fail(`--role must be one of ${API_KEY_ROLES.join(', ')}.`);
    if (!name?.trim()) fail('--name is required.');
  }
  if (command === 'revoke' && !id) fail('--id is required.');

  const config = loadConfig();
  const database = await openDatabase(config);
  try {
    await database.migrate();
    const keys = keysService(database.db);
    if (command === 'create') {
      const { key, record } = await keys.create({ role: role as ApiKeyRole, name: name!.trim() });
      process.stdout.write(`Created ${record.role} key "${record.name}" (id ${record.id}). It is shown only now:\n${key}\n`);
    } else if (command === 'list') {
      let cursor: string | undefined;
      do {
        const page = await keys.list({ limit: 100, cursor });
        for (const key of page.data) {
          const state = key.revokedAt ? `revoked ${key.revokedAt.toISOString()}` : 'active';
          process.stdout.write(`${key.id}  ${displayPrefix(key.prefix)}  ${key.role.padEnd(6)}  ${state}  ${key.name}\n`);
        }
        cursor = page.nextCursor ?? undefined;
      } while (cursor);
    } else {
      const record = await keys.revoke(id!);
      process.stdout.write(`Revoked key ${record.id} (${record.name}).\n`);
    }
  } finally {
    await database.close();
  }
}

main().catch((error: unknown) => {
  if (error instanceof ConfigError) {
    process.stderr.write(`${error.message}\n`);
  } else {
    process.stderr.write(`${error instanceof Error ? error.message : String(error)}\n`);
  }
  process.exit(1);
});
