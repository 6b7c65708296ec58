import { z } from 'zod';

/**
 * A BCP 47 language tag as newsrooms use them (`en`, `uk`, `pt-BR`), in canonical case.
 * Intl does the real validation; the pattern keeps out oddities Intl tolerates (`x-…` private tags).
 */
const LOCALE_SHAPE = /^[a-zA-Z]{2,3}(?:-[a-zA-Z0-9]{2,8})*$/;

export function canonicalLocale(tag: string): string | null {
  if (!LOCALE_SHAPE.test(tag)) return null;
  try {
    return Intl.getCanonicalLocales(tag)[0] ?? null;
  } catch {
    return null;
  }
}

export const Locale = z
  .string()
  .max(35)
  .transform((tag, ctx) => {
    const canonical = canonicalLocale(tag);
    if (canonical === null) {
      ctx.addIssue({ code: 'custom', message: 'must be a BCP 47 language tag such as "en" or "uk"' });
      return z.NEVER;
    }
    return canonical;
  })
  .meta({ description: 'BCP 47 language tag', example: 'en' });

/** `locale` on lists and feeds (docs/adr/0009-locales.md). */
export const LocaleFilter = Locale.optional().meta({
  description: 'Only this locale (a BCP 47 tag such as `en` or `uk`); without it, every locale',
});

/** `locale` on a lookup by id or slug (docs/adr/0009-locales.md). */
export const SlugLocale = Locale.optional().meta({
  description:
    'Locale of a slug lookup (an id ignores it). Without it: DEFAULT_LOCALE first, else the one locale that has the slug; ' +
    'a slug several other locales have is 404 until one is named',
});
