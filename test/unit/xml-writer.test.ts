import fc from 'fast-check';
import { SaxesParser } from 'saxes';
import t from 'tap';
import { escapeXml, XmlWriter } from '../../src/modules/feeds/xml-writer.js';
import { asXmlText, xmlErrors } from '../strict-xml.js';

/** Parses a written `<a v="…">…</a>` strictly and returns the attribute and the text, or the errors. */
function readBack(document: string): { errors: string[]; attribute?: string; text: string } {
  const parser = new SaxesParser({ xmlns: true });
  const errors: string[] = [];
  let attribute: string | undefined;
  let text = '';
  let inside = false;
  parser.on('error', (error) => errors.push(error.message));
  parser.on('opentag', (tag) => {
    attribute = tag.attributes.v?.value;
    inside = true;
  });
  parser.on('closetag', () => {
    inside = false;
  });
  parser.on('text', (chunk) => {
    if (inside) text += chunk;
  });
  parser.write(document).close();
  return { errors, attribute, text };
}

const roundTrip = (value: string) => readBack(new XmlWriter().text('a', value, { v: value }).toString());

t.test('markup characters are escaped, everything else passes through', async (t) => {
  t.equal(escapeXml(`<img src=x onerror=alert(1)> & "quotes'`), '&lt;img src=x onerror=alert(1)&gt; &amp; &quot;quotes&#39;');
  t.equal(escapeXml('&amp;'), '&amp;amp;', 'a literal entity stays literal');
  t.equal(escapeXml('a ]]> b ]]> c'), 'a ]]&gt; b ]]&gt; c', 'every ]]>, not just the first');
  const world = 'Київ 🇺🇦 \u200Fعاجل\u200F\ttab\nline\u0085\u007F';
  t.equal(escapeXml(world), world, 'Cyrillic, emoji, bidi marks, tab, LF and C1 controls are legal XML');
  t.equal(escapeXml('a\r\nb'), 'a&#13;\nb', 'a parser would read a literal CR as LF');
});

t.test('characters XML 1.0 cannot carry are dropped', async (t) => {
  t.equal(escapeXml('a\u0000b\u0001c\u0008d\u000Be\u000Cf\u001Fg'), 'abcdefg', 'C0 controls other than tab, LF, CR');
  t.equal(escapeXml('x\uFFFEy\uFFFFz'), 'xyz', 'U+FFFE and U+FFFF');
  t.equal(escapeXml('lone \uD800 high, lone \uDC00 low, \uDC00\uD800 reversed'), 'lone  high, lone  low,  reversed');
  t.equal(escapeXml('pair 🇺🇦 \uD83D\uDE00'), 'pair 🇺🇦 😀', 'surrogate pairs are kept');
});

t.test('the hostile corpus round-trips through a strict parser', async (t) => {
  const corpus = [
    'a ]]> b ]]> c',
    ']]><item><title>x</title><link>https://evil.example</link></item><![CDATA[',
    'C<C++',
    '&amp; literal &lt;',
    `"quotes'`,
    '<img src=x onerror=alert(1)>',
    'Київ 🇺🇦 \u200Fعاجل: خبر\u200F',
    'tab\tline\ncarriage\r\nend',
    '<!-- comment --> <?pi x?> <!DOCTYPE x> &undefined;',
  ];
  for (const value of corpus) t.same(roundTrip(value), { errors: [], attribute: value, text: value }, value);
});

t.test('any string reads back as itself less the characters XML cannot carry', async () => {
  const awkward = fc.constantFrom('\u0000', '\u0001', '\u000B', '\uD800', '\uDFFF', '\uFFFE', '\uFFFF', ']]>', '<', '>', '&', '"', "'", '\r\n', '\u200F');
  const text = fc.array(fc.oneof(fc.string({ unit: 'binary' }), awkward)).map((parts) => parts.join(''));
  fc.assert(
    fc.property(text, (value) => {
      const { errors, attribute, text: read } = roundTrip(value);
      const expected = asXmlText(value);
      return errors.length === 0 && read === expected && attribute === expected;
    }),
    { seed: 20_241_122 },
  );
});

t.test('the writer nests, escapes attributes and refuses an unfinished document', async (t) => {
  const document = new XmlWriter()
    .start('feed', { xmlns: 'http://www.w3.org/2005/Atom', skipped: undefined })
    .text('title', 'C<C++ & "more" -> ]]> x', { type: 'text' })
    .empty('category', { label: 'C<C++\tand\nmore', term: 'c-c' })
    .text('empty', '')
    .end()
    .toString();
  t.same(xmlErrors(document), []);
  t.equal(
    document,
    [
      '<?xml version="1.0" encoding="utf-8"?>',
      '<feed xmlns="http://www.w3.org/2005/Atom">',
      // Between tags quotes stay as they are, and `>` is escaped only where it closes `]]>`.
      '    <title type="text">C&lt;C++ &amp; "more" -> ]]&gt; x</title>',
      '    <category label="C&lt;C++&#9;and&#10;more" term="c-c"/>',
      '    <empty></empty>',
      '</feed>',
    ].join('\n'),
  );
  t.throws(() => new XmlWriter().start('feed').toString(), /still open/);
  t.throws(() => new XmlWriter().end(), /no element/);
});
