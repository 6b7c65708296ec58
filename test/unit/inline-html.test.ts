import t from 'tap';
import sanitizeHtml from 'sanitize-html';
import { inlineToText, linkTarget, sanitizeInline } from '../../src/modules/articles/inline-html.js';

t.test('linkTarget keeps absolute http, https and mailto URLs, normalised', async (t) => {
  t.equal(linkTarget('https://News.Example/a b?q="<>'), 'https://news.example/a%20b?q=%22%3C%3E');
  t.equal(linkTarget('  http://news.example'), 'http://news.example/');
  t.equal(linkTarget('MAILTO:desk@news.example'), 'mailto:desk@news.example');
  for (const href of ['/x', 'x.html', '//news.example/x', '#frag', '?q=1', '', 'ftp://files.example/x', 'javascript:alert(1)', 'data:text/html,x']) {
    t.equal(linkTarget(href), null, JSON.stringify(href));
  }
  t.equal(linkTarget('https://user@news.example/'), null, 'a user name');
  t.equal(linkTarget('https://:secret@news.example/'), null, 'a password');
});

t.test('sanitizeInline unwraps links it does not keep and writes kept ones normalised', async (t) => {
  t.equal(sanitizeInline('<a href="/x">a</a> <a href="https://x.test">b</a> <a>c</a>'), 'a <a href="https://x.test/">b</a> c');
  t.equal(sanitizeInline('<a href="https://x.test/?a=1&amp;b=2" title="t">d</a>'), '<a href="https://x.test/?a=1&amp;b=2">d</a>');
});

t.test('inlineToText reads clean markup as a full parse would', async (t) => {
  const parsed = (html: string) =>
    sanitizeHtml(html.replace(/<br\s*\/?>/gi, ' '), { allowedTags: [], allowedAttributes: {}, parser: { decodeEntities: true } })
      .replace(/&lt;/g, '<')
      .replace(/&gt;/g, '>')
      .replace(/&quot;/g, '"')
      .replace(/&amp;/g, '&')
      .replace(/\s+/g, ' ')
      .trim();
  for (const raw of [
    'Plain &amp; simple',
    'a &lt;b&gt; &amp;lt; "quoted" \'single\'',
    '<b>bold</b><br/>next <i>line</i>',
    '<a href="https://x.test/?q=&quot;&gt;">link &gt; text</a>  and   spaces',
    'Text with &nbsp; and &#169; entities',
  ]) {
    const clean = sanitizeInline(raw);
    t.equal(inlineToText(clean), parsed(clean), raw);
  }
});
