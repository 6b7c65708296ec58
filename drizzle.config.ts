import { defineConfig } from 'drizzle-kit';

// Only for `npm run db:generate`: migrations are generated from the schema, then read and committed.
export default defineConfig({
  dialect: 'postgresql',
  schema: './src/db/schema/index.ts',
  out: './migrations',
});
