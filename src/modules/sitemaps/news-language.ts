/** Regions whose Chinese is written in traditional characters when a locale names no script. */
const TRADITIONAL_CHINESE_REGIONS = new Set(['TW', 'HK', 'MO']);

/**
 * A locale as Google News names languages: the ISO 639 code alone (`en`, `uk`, `pt` for `pt-BR`),
 * except Chinese, which it splits by script into `zh-cn` (simplified) and `zh-tw` (traditional).
 */
export function newsLanguage(locale: string): string {
  let parsed: Intl.Locale;
  try {
    parsed = new Intl.Locale(locale);
  } catch {
    // Stored locales are canonical BCP 47 tags; anything else still has its language first.
    return (locale.split('-')[0] ?? locale).toLowerCase();
  }
  if (parsed.language !== 'zh') return parsed.language;
  const traditional = parsed.script ? parsed.script === 'Hant' : TRADITIONAL_CHINESE_REGIONS.has(parsed.region ?? '');
  return traditional ? 'zh-tw' : 'zh-cn';
}
