/**
 * Most spellings of time zone names kept. `tz` comes from clients, and every letter-case variant
 * or alias of a zone is a name of its own (`europe/kyiv`, `EUROPE/KIEV`): names map to one shared
 * formatter per canonical zone (a few hundred exist), and the names themselves are bounded.
 */
export const MAX_ZONE_NAMES = 1_000;

const formatterByName = new Map<string, Intl.DateTimeFormat>();
const formatterByZone = new Map<string, Intl.DateTimeFormat>();

function formatterFor(timeZone: string): Intl.DateTimeFormat {
  const kept = formatterByName.get(timeZone);
  if (kept) return kept;
  const zone = new Intl.DateTimeFormat('en', { timeZone }).resolvedOptions().timeZone;
  let formatter = formatterByZone.get(zone);
  if (!formatter) {
    // en-CA formats dates as YYYY-MM-DD.
    formatter = new Intl.DateTimeFormat('en-CA', { timeZone: zone, year: 'numeric', month: '2-digit', day: '2-digit' });
    formatterByZone.set(zone, formatter);
  }
  // The oldest name goes first (a Map keeps insertion order); it costs one lookup to come back.
  if (formatterByName.size >= MAX_ZONE_NAMES) formatterByName.delete(formatterByName.keys().next().value as string);
  formatterByName.set(timeZone, formatter);
  return formatter;
}

/** The calendar date (YYYY-MM-DD) of an instant in an IANA time zone: DST-correct, from Intl. */
export function localDate(instant: Date, timeZone: string): string {
  return formatterFor(timeZone).format(instant);
}

/** How many names and formatters are kept, for tests of the bound. */
export function keptTimeZones(): { names: number; formatters: number } {
  return { names: formatterByName.size, formatters: formatterByZone.size };
}
