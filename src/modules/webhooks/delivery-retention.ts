import { sql } from 'drizzle-orm';
import type { Database } from '../../db/database.js';
import { webhookDeliveries } from '../../db/schema/webhooks.js';

/**
 * Removes up to `batch` deliveries that finished (succeeded or failed) more than `retentionDays`
 * ago, with their attempts (cascade): the deliveries endpoint shows as much history as the event
 * log keeps. Pending deliveries stay whatever their age. Returns how many went.
 */
export async function sweepFinishedDeliveries(db: Database, retentionDays: number, batch = 5_000): Promise<number> {
  const result = await db.execute(sql`
    delete from ${webhookDeliveries} where id in (
      select id from ${webhookDeliveries}
      where status <> 'pending' and finished_at < now() - make_interval(days => ${retentionDays})
      order by finished_at
      limit ${batch}
    )`);
  const { rowCount, affectedRows } = result as unknown as { rowCount?: number | null; affectedRows?: number };
  return rowCount ?? affectedRows ?? 0;
}
