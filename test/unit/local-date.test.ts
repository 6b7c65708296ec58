import t from 'tap';
import { keptTimeZones, localDate, MAX_ZONE_NAMES } from '../../src/lib/local-date.js';

const instant = new Date('2024-11-21T22:30:00.000Z'); // 00:30 on the 22nd in Kyiv

/** Every letter-case variant of a name, as a client may send them: 2^letters of them. */
function* caseVariants(name: string): Generator<string> {
  const letters = [...name].map((char, i) => (/[a-z]/i.test(char) ? i : -1)).filter((i) => i >= 0);
  for (let mask = 0; mask < 2 ** letters.length; mask += 1) {
    const chars = [...name];
    letters.forEach((index, bit) => (chars[index] = mask & (1 << bit) ? chars[index]!.toUpperCase() : chars[index]!.toLowerCase()));
    yield chars.join('');
  }
}

t.test('spellings of one zone share a formatter, and the names kept are bounded', async (t) => {
  let sent = 0;
  for (const name of caseVariants('Europe/Kyiv')) {
    t.equal(localDate(instant, name), '2024-11-22');
    sent += 1;
  }
  for (const name of caseVariants('America/New_York')) {
    if (sent >= 3 * MAX_ZONE_NAMES) break;
    t.equal(localDate(instant, name), '2024-11-21');
    sent += 1;
  }
  t.ok(sent > 2 * MAX_ZONE_NAMES, `${sent} distinct names sent`);
  const kept = keptTimeZones();
  t.ok(kept.names <= MAX_ZONE_NAMES, `${kept.names} names kept`);
  t.ok(kept.formatters <= 2, `${kept.formatters} formatters made`);
  t.equal(localDate(instant, 'Europe/Kiev'), '2024-11-22', 'an alias resolves to the same zone');
  t.equal(localDate(instant, 'UTC'), '2024-11-21');
});
