import pg from 'pg';

/** Alternating rounds of each kind: the write rows vary by ±10 % from one round to the next here. */
export const EVENT_COST_ROUNDS = 6;
/**
 * A quick run's rounds last 2 s: autocannon's rate is then the mean of two one-second samples, and
 * one slow second moves the ratio by several points, on a target (0.9) the measure sits close to.
 */
const EVENT_COST_MIN_ROUND_SECONDS = 5;

/** Stands in for `events_append` (migration 0011) while the rounds without events run. */
const NO_EVENTS = `create or replace function events_append(drafts jsonb) returns void language plpgsql as $$ begin end $$`;

export interface EventCost<M> {
  withEvents: M;
  withoutEvents: M;
  /** withEvents / withoutEvents, by operations per second (issue 13: at least 0.9). */
  ratio: number | null;
  rounds: number;
  roundSeconds: number;
  how: string;
}

/**
 * What writing the change log costs a write: the same server, database and requests, in
 * alternating rounds with `events_append` as it is and replaced by a function that does nothing
 * (so no event row is written; building the events in Node is still paid in both). The
 * function's definition is put back whatever happens. Rounds last as long as the run's
 * (`runSeconds`), and at least EVENT_COST_MIN_ROUND_SECONDS.
 */
export async function measureEventCost<M extends { rps: number }>(
  databaseUrl: string,
  measure: (seconds: number) => Promise<M>,
  combine: (rounds: M[]) => M,
  runSeconds: number,
): Promise<EventCost<M>> {
  const roundSeconds = Math.max(runSeconds, EVENT_COST_MIN_ROUND_SECONDS);
  const client = new pg.Client({ connectionString: databaseUrl });
  await client.connect();
  const original = (await client.query(`select pg_get_functiondef('events_append(jsonb)'::regprocedure) as definition`)).rows[0]
    .definition as string;
  const withEvents: M[] = [];
  const withoutEvents: M[] = [];
  try {
    for (let round = 0; round < EVENT_COST_ROUNDS; round += 1) {
      await client.query(original);
      withEvents.push(await measure(roundSeconds));
      await client.query(NO_EVENTS);
      withoutEvents.push(await measure(roundSeconds));
    }
  } finally {
    await client.query(original);
    await client.end();
  }
  const [withAll, withoutAll] = [combine(withEvents), combine(withoutEvents)];
  return {
    withEvents: withAll,
    withoutEvents: withoutAll,
    ratio: withoutAll.rps > 0 ? Math.round((withAll.rps / withoutAll.rps) * 100) / 100 : null,
    rounds: EVENT_COST_ROUNDS,
    roundSeconds,
    how: 'create + publish on Lede, alternating rounds with events_append as shipped and replaced by a no-op',
  };
}

