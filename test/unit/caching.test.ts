import t from 'tap';
import { entityTag, noneMatch, versionsInIfMatch } from '../../src/http/caching.js';

const BODY = '{"id":"1","name":"Росія"}';

t.test('entityTag', async (t) => {
  const versioned = entityTag(BODY, 3);
  t.match(versioned, /^"v3-[A-Za-z0-9_-]{16}"$/, 'a resource: "v{version}-{hash}"');
  const plain = entityTag(BODY, null);
  t.match(plain, /^"[A-Za-z0-9_-]{16}"$/, 'anything else: "{hash}"');
  t.equal(versioned, `"v3-${plain.slice(1)}`, 'the same hash of the same body');

  t.equal(entityTag(BODY, 3), versioned, 'deterministic');
  t.equal(entityTag(Buffer.from(BODY), 3), versioned, 'a Buffer hashes as its bytes');
  t.not(entityTag(`${BODY} `, 3), versioned, 'one byte more is another tag');
  t.not(entityTag(BODY, 4), versioned, 'another version is another tag');
  t.equal(entityTag('', null), '"2jmj7l5rSw0yVb_v"', 'SHA-1 of nothing, base64url, 16 characters');
});

t.test('noneMatch: strong and weak tags compare weakly', async (t) => {
  const etag = entityTag(BODY, 3);
  t.equal(noneMatch(undefined, etag), false, 'no header');
  t.equal(noneMatch('', etag), false, 'empty header');
  t.equal(noneMatch(etag, etag), true, 'the same tag');
  t.equal(noneMatch(`W/${etag}`, etag), true, 'the weak form of the tag (a CDN may weaken it)');
  t.equal(noneMatch(etag, `W/${etag}`), true, 'a weak current tag');
  t.equal(noneMatch(entityTag(BODY, 2), etag), false, 'an older version');
  t.equal(noneMatch(etag.slice(1, -1), etag), false, 'the tag without its quotes is another tag');
});

t.test('noneMatch: lists and *', async (t) => {
  const etag = entityTag(BODY, 3);
  t.equal(noneMatch(`"abc", ${etag}`, etag), true, 'second in a list');
  t.equal(noneMatch(`${etag},"abc"`, etag), true, 'first in a list, no space');
  t.equal(noneMatch(`"abc" ,  W/${etag} , "def"`, etag), true, 'weak, padded, in the middle');
  t.equal(noneMatch('"abc", "def"', etag), false, 'a list without it');
  t.equal(noneMatch('*', etag), true, '* matches any current representation');
  t.equal(noneMatch(' * ', etag), true);
});

t.test('versionsInIfMatch reads the versions of tags Lede made', async (t) => {
  t.same(versionsInIfMatch(entityTag(BODY, 7)), [7]);
  t.same(versionsInIfMatch('"v12-abcDEF_-"'), [12]);
  t.same(versionsInIfMatch('"v1"'), [1], 'the hash part is optional');
  t.same(versionsInIfMatch('"v3-aaa", "v4-bbb"'), [3, 4], 'a list');
  t.same(versionsInIfMatch(' "v3-aaa" ,"v5-ccc" '), [3, 5], 'padded list');
  t.same(versionsInIfMatch('W/"v3-aaa"'), [], 'If-Match compares strongly: a weak tag names no version');
  t.same(versionsInIfMatch('"v3-aaa", W/"v4-bbb"'), [3]);
});

t.test('versionsInIfMatch ignores anything else', async (t) => {
  t.same(versionsInIfMatch('*'), [], '* names no version (the precondition layer refuses it)');
  t.same(versionsInIfMatch(''), []);
  t.same(versionsInIfMatch('"abc"'), [], 'a hash-only tag (lists, other servers)');
  t.same(versionsInIfMatch('v3-aaa'), [], 'unquoted');
  t.same(versionsInIfMatch('"v3-aaa'), [], 'unterminated');
  t.same(versionsInIfMatch('"v-aaa"'), [], 'no number');
  t.same(versionsInIfMatch('"vx-aaa"'), []);
  t.same(versionsInIfMatch('"v3-a a"'), [], 'space in the hash');
  t.same(versionsInIfMatch('"v1234567890"'), [], 'more than nine digits');
  t.same(versionsInIfMatch('"abc", "v8-z"'), [8], 'only the tags Lede made');
});
