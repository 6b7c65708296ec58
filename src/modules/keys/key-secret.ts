import { createHash, randomBytes, timingSafeEqual } from 'node:crypto';

/**
 * A key reads `lede_<prefix>_<secret>`. The prefix is stored in clear to find the row and to show
 * admins which key is which; the secret is 32 random bytes, stored only as its SHA-256. A slow
 * password hash buys nothing for 256 bits of randomness and would cost every request.
 */
const KEY_SHAPE = /^lede_([a-z0-9]{12})_([A-Za-z0-9_-]{43})$/;
const PREFIX_ALPHABET = 'abcdefghijklmnopqrstuvwxyz0123456789';
const PREFIX_LENGTH = 12;
const SECRET_BYTES = 32;

export interface NewKeySecret {
  /** The whole key, shown to its owner once. */
  key: string;
  prefix: string;
  secretHash: string;
}

function randomPrefix(): string {
  const bytes = randomBytes(PREFIX_LENGTH);
  let prefix = '';
  for (const byte of bytes) prefix += PREFIX_ALPHABET[byte % PREFIX_ALPHABET.length];
  return prefix;
}

export function hashSecret(secret: string): string {
  return createHash('sha256').update(secret).digest('hex');
}

export function generateKeySecret(): NewKeySecret {
  const prefix = randomPrefix();
  const secret = randomBytes(SECRET_BYTES).toString('base64url');
  return { key: `lede_${prefix}_${secret}`, prefix, secretHash: hashSecret(secret) };
}

export function parseKey(presented: string): { prefix: string; secret: string } | null {
  const match = KEY_SHAPE.exec(presented);
  if (!match?.[1] || !match[2]) return null;
  return { prefix: match[1], secret: match[2] };
}

/** Constant-time comparison of a presented secret with a stored hash. */
export function secretMatches(secret: string, storedHash: string): boolean {
  const presented = Buffer.from(hashSecret(secret), 'hex');
  const stored = Buffer.from(storedHash, 'hex');
  return presented.length === stored.length && timingSafeEqual(presented, stored);
}

export function displayPrefix(prefix: string): string {
  return `lede_${prefix}`;
}
