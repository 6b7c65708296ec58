import t from 'tap';
import {
  displayPrefix,
  generateKeySecret,
  hashSecret,
  parseKey,
  secretMatches,
} from '../../src/modules/keys/key-secret.js';

const KEY_SHAPE = /^lede_[a-z0-9]{12}_[A-Za-z0-9_-]{43}$/;

t.test('a new key has the documented shape and its prefix is the one stored', async (t) => {
  const made = generateKeySecret();
  t.match(made.key, KEY_SHAPE);
  t.match(made.prefix, /^[a-z0-9]{12}$/);
  t.ok(made.key.startsWith(`lede_${made.prefix}_`));
  t.equal(displayPrefix(made.prefix), `lede_${made.prefix}`);
});

t.test('keys are random', async (t) => {
  const keys = Array.from({ length: 50 }, () => generateKeySecret());
  t.equal(new Set(keys.map((k) => k.key)).size, 50);
  t.equal(new Set(keys.map((k) => k.prefix)).size, 50);
  t.equal(new Set(keys.map((k) => k.secretHash)).size, 50);
});

t.test('the stored hash is the SHA-256 of the secret, never the key or the secret', async (t) => {
  const made = generateKeySecret();
  const parsed = parseKey(made.key);
  t.ok(parsed);
  t.equal(parsed?.prefix, made.prefix);
  t.match(made.secretHash, /^[0-9a-f]{64}$/);
  t.not(made.secretHash, made.key);
  t.not(made.secretHash, parsed?.secret);
  t.notOk(made.key.includes(made.secretHash));
  t.notOk(made.secretHash.includes(parsed?.secret ?? '-'));
  t.equal(hashSecret(parsed!.secret), made.secretHash);
  // A known vector, so the hash cannot silently change (existing keys would stop working).
  t.equal(hashSecret('abc'), 'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad');
});

t.test('parseKey splits a well-formed key', async (t) => {
  const secret = 'A'.repeat(21) + '_-' + 'z9'.repeat(10);
  t.equal(secret.length, 43);
  t.same(parseKey(`lede_abc123def456_${secret}`), { prefix: 'abc123def456', secret });
});

t.test('parseKey rejects anything malformed', async (t) => {
  const { key } = generateKeySecret();
  const secret = key.slice(-43);
  const malformed: Record<string, string> = {
    empty: '',
    'wrong product': key.replace(/^lede_/, 'ghost_'),
    'no product': key.replace(/^lede_/, ''),
    'uppercase prefix': `lede_ABC123DEF456_${secret}`,
    'short prefix': `lede_abc123def45_${secret}`,
    'long prefix': `lede_abc123def4567_${secret}`,
    'short secret': key.slice(0, -1),
    'long secret': `${key}A`,
    'secret with +': `${key.slice(0, -1)}+`,
    'leading space': ` ${key}`,
    'trailing newline': `${key}\n`,
    'Bearer included': `Bearer ${key}`,
    'display prefix only': `lede_${key.slice(5, 17)}`,
  };
  for (const [why, presented] of Object.entries(malformed)) {
    t.equal(parseKey(presented), null, why);
  }
});

t.test('secretMatches', async (t) => {
  const made = generateKeySecret();
  const secret = parseKey(made.key)!.secret;
  t.equal(secretMatches(secret, made.secretHash), true, 'the right secret');
  const other = parseKey(generateKeySecret().key)!.secret;
  t.equal(secretMatches(other, made.secretHash), false, 'another key’s secret');
  const flipped = (secret[0] === 'A' ? 'B' : 'A') + secret.slice(1);
  t.equal(secretMatches(flipped, made.secretHash), false, 'one character changed');
  t.equal(secretMatches(made.key, made.secretHash), false, 'the whole key is not the secret');
  t.equal(secretMatches(secret, ''), false, 'an empty stored hash');
  t.equal(secretMatches(secret, 'not hex'), false, 'a corrupt stored hash');
  t.equal(secretMatches(secret, made.secretHash.slice(0, 62)), false, 'a truncated stored hash');
});
