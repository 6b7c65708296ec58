import t from 'tap';
import { MAX_SLUG_LENGTH, slugify } from '../../src/lib/slug.js';

const SLUG_SHAPE = /^[a-z0-9]+(?:-[a-z0-9]+)*$/;

t.test('Cyrillic follows the Ukrainian national romanisation', async (t) => {
  t.equal(slugify('Росія'), 'rosiia');
  t.equal(slugify('Київ'), 'kyiv');
  t.equal(slugify('Блінкен і Лавров'), 'blinken-i-lavrov');
  t.equal(slugify('Щедрик'), 'shchedryk');
  t.equal(slugify('Ґанок'), 'ganok', 'ґ is g, г is h');
  t.equal(slugify('Харків'), 'kharkiv');
});

t.test('є ї й ю я are romanised differently at the start of a word', async (t) => {
  t.equal(slugify('Юрій'), 'yurii');
  t.equal(slugify('Євген'), 'yevhen');
  t.equal(slugify('Їжак'), 'yizhak');
  t.equal(slugify('Йосип'), 'yosyp');
  t.equal(slugify('Ялта'), 'yalta');
  t.equal(slugify('Україна'), 'ukraina', 'ї inside a word is i');
  t.equal(slugify('Гаєвий'), 'haievyi', 'є and й inside a word are ie and i');
  t.equal(slugify('Андрій Юрченко'), 'andrii-yurchenko', 'every word has its own start');
});

t.test('зг becomes zgh so it is not read as zh', async (t) => {
  t.equal(slugify('Згорани'), 'zghorany');
  t.equal(slugify('Розгон'), 'rozghon');
  t.equal(slugify('Жук'), 'zhuk', 'a real ж stays zh');
});

t.test('apostrophes are dropped, not turned into hyphens', async (t) => {
  t.equal(slugify("Мар'яна"), 'mariana');
  t.equal(slugify('П’ятниця'), 'piatnytsia', 'typographic apostrophe');
  t.equal(slugify('Сім\u02BCя'), 'simia', 'modifier letter apostrophe');
  t.equal(slugify("Don't stop"), 'dont-stop');
});

t.test('accents are stripped from Latin letters', async (t) => {
  t.equal(slugify('Café Zoë'), 'cafe-zoe');
  t.equal(slugify('Señor Müller'), 'senor-muller');
  t.equal(slugify('Škoda Citroën'), 'skoda-citroen');
  t.equal(slugify('Straße'), 'strasse');
});

t.test('letters that do not decompose into a base letter plus accent', async (t) => {
  // ł ø đ æ carry no combining mark, so NFKD leaves them and they become hyphens or vanish.
  t.equal(slugify('Wałęsa'), 'walesa');
  t.equal(slugify('Łódź'), 'lodz');
  t.equal(slugify('Søren Kierkegaard'), 'soren-kierkegaard');
});

t.test('punctuation and whitespace collapse to single hyphens, trimmed at both ends', async (t) => {
  t.equal(slugify('  Hello,   World!!  '), 'hello-world');
  t.equal(slugify('--Kyiv -- Lviv--'), 'kyiv-lviv');
  t.equal(slugify('COVID-19: 2024 update'), 'covid-19-2024-update');
  t.equal(slugify('Росія / Україна — війна'), 'rosiia-ukraina-viina');
});

t.test('a title with nothing sluggable gives an empty slug', async (t) => {
  t.equal(slugify('!!!'), '');
  t.equal(slugify(''), '');
  t.equal(slugify('   '), '');
  t.equal(slugify('🙂 —'), '');
});

t.test('long titles are cut to 200 characters at a hyphen and never end in a hyphen', async (t) => {
  t.equal(MAX_SLUG_LENGTH, 200);

  // Words of 9 letters: "abcdefghi-abcdefghi-…"; position 200 falls inside a word.
  const words = Array.from({ length: 40 }, () => 'abcdefghi').join(' ');
  const slug = slugify(words);
  t.ok(slug.length <= MAX_SLUG_LENGTH, `length ${slug.length} ≤ 200`);
  t.match(slug, SLUG_SHAPE);
  t.notOk(slug.endsWith('-'));
  t.ok(slug.split('-').every((word) => word === 'abcdefghi'), 'no word is cut in half');
  t.equal(slug.length, 199, 'twenty whole words of ten characters less the last hyphen');

  // Position 199 is a separator: a plain 200-character cut would end in "-".
  const hyphenAtEnd = `${'a'.repeat(199)} ${'b'.repeat(50)}`;
  t.equal(slugify(hyphenAtEnd), 'a'.repeat(199));

  // One word longer than the limit has no hyphen to cut at: it is cut hard.
  const oneWord = 'x'.repeat(250);
  t.equal(slugify(oneWord), 'x'.repeat(200));

  // Cyrillic expands when romanised (щ → shch): the limit applies to the result.
  const cyrillic = slugify('Щастя '.repeat(60));
  t.ok(cyrillic.length <= MAX_SLUG_LENGTH);
  t.match(cyrillic, SLUG_SHAPE);
  t.ok(cyrillic.split('-').every((word) => word === 'shchastia'));
});

t.test('a word ending exactly at character 200 is kept', async (t) => {
  // "a×195 bbbb cccc": latin[200] is the hyphen before "cccc", so the first 200 characters
  // already end at a word boundary; dropping "bbbb" as well loses a word for nothing.
  const title = `${'a'.repeat(195)} bbbb cccc`;
  t.equal(slugify(title), `${'a'.repeat(195)}-bbbb`);
});

t.test('every slug has the documented shape', async (t) => {
  for (const title of ['Блінкен і Лавров', 'Café Zoë', 'COVID-19', "Мар'яна", 'Згорани', 'a  b']) {
    t.match(slugify(title), SLUG_SHAPE, title);
  }
});
