import { z } from 'zod';

export const DEFAULT_PAGE_SIZE = 20;
export const MAX_PAGE_SIZE = 100;

const UUID_LENGTH = 36;
export const Uuid = z.uuid({ error: 'must be a UUID' }).max(UUID_LENGTH).meta({ example: '0b9f3f8e-3c1b-4f6e-9a51-2f0c6d1e7a42' });

const MIN_YEAR = 1;
const MAX_YEAR = 9999;
/** Room for any fraction of a second a client writes (`9999-12-31T23:59:59.999999999+14:00` is 35). */
const TIMESTAMP_MAX_LENGTH = 64;

/** An ISO 8601 instant in years 1–9999: what JavaScript and PostgreSQL both represent. */
export const Timestamp = z.iso
  .datetime({ offset: true })
  .max(TIMESTAMP_MAX_LENGTH)
  .refine((value) => {
    const year = new Date(value).getUTCFullYear();
    return year >= MIN_YEAR && year <= MAX_YEAR;
  }, `must be between the years ${MIN_YEAR} and ${MAX_YEAR}`)
  .meta({ example: '2024-11-22T14:30:00.000Z' });

export const Slug = z
  .string()
  .max(200)
  .regex(/^[a-z0-9]+(?:-[a-z0-9]+)*$/, 'must be lowercase letters, digits and single hyphens')
  .meta({ example: 'rosiia' });

/** A search or prefix `q`: trimmed; empty (`q=`) is no search at all. */
export const SearchText = (max: number) =>
  z
    .string()
    .trim()
    .max(max)
    .optional()
    .transform((text) => (text === '' ? undefined : text));

export const PageQuery = {
  limit: z.coerce
    .number({ error: 'must be a whole number' })
    .int('must be a whole number')
    .min(1, 'must be at least 1')
    .max(MAX_PAGE_SIZE, `must be at most ${MAX_PAGE_SIZE}`)
    .default(DEFAULT_PAGE_SIZE)
    .meta({ description: `Items per page, 1–${MAX_PAGE_SIZE}` }),
  cursor: z.string().max(1024).optional().meta({ description: 'Opaque cursor from a previous page’s nextCursor' }),
};

export function page<T extends z.ZodType>(item: T, id: string) {
  return z
    .object({
      data: z.array(item),
      nextCursor: z.string().nullable().meta({ description: 'Pass as `cursor` for the next page; null on the last page' }),
    })
    .meta({ id });
}

/** Room for a list of several ETags; each of ours is under 30 characters. */
const IF_MATCH_MAX_LENGTH = 1024;

/** Headers every conditional write reads. */
export const IfMatchHeaders = z.object({
  // Optional to the validator, so its absence is answered 428 (not 400); the document marks it required.
  'if-match': z.string().max(IF_MATCH_MAX_LENGTH).optional().meta({ description: 'The ETag from your last read; required' }),
});

/** Serialises a timestamp the way every response shows it. */
export function isoTime(value: Date): string {
  return value.toISOString();
}

export function isoTimeOrNull(value: Date | null): string | null {
  return value === null ? null : value.toISOString();
}
