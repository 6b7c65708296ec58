/**
 * Slugs from titles and names. Cyrillic follows Ukraine's official romanisation (2010): the
 * newsroom's own names then read as its readers expect (`Росія` → `rosiia`, `Київ` → `kyiv`).
 * Letters that only Russian has get their usual Latin forms.
 */
export const MAX_SLUG_LENGTH = 200;

const CYRILLIC: Record<string, string> = {
  а: 'a', б: 'b', в: 'v', г: 'h', ґ: 'g', д: 'd', е: 'e', є: 'ie', ж: 'zh', з: 'z', и: 'y',
  і: 'i', ї: 'i', й: 'i', к: 'k', л: 'l', м: 'm', н: 'n', о: 'o', п: 'p', р: 'r', с: 's',
  т: 't', у: 'u', ф: 'f', х: 'kh', ц: 'ts', ч: 'ch', ш: 'sh', щ: 'shch', ь: '', ю: 'iu',
  я: 'ia', ё: 'io', ы: 'y', э: 'e', ъ: '',
};

/** At the start of a word these letters are romanised differently (`Юрій` → `yurii`). */
const CYRILLIC_WORD_INITIAL: Record<string, string> = { є: 'ye', ї: 'yi', й: 'y', ю: 'yu', я: 'ya' };

/** Latin letters that are not a base letter plus an accent, so NFKD leaves them as they are. */
const LATIN_SPECIAL: Record<string, string> = { ł: 'l', ø: 'o', đ: 'd', ð: 'd', æ: 'ae', œ: 'oe', þ: 'th', ı: 'i', ß: 'ss' };

const APOSTROPHES = /['’ʼ`]/g;

function transliterate(text: string): string {
  let out = '';
  let previous = '';
  for (const char of text.toLowerCase()) {
    const atWordStart = !/\p{L}/u.test(previous);
    if (char === 'г' && previous === 'з') {
      out += 'gh'; // зг → zgh, so it is not read as the digraph zh
    } else if (atWordStart && CYRILLIC_WORD_INITIAL[char] !== undefined) {
      out += CYRILLIC_WORD_INITIAL[char];
    } else if (CYRILLIC[char] !== undefined) {
      out += CYRILLIC[char];
    } else if (LATIN_SPECIAL[char] !== undefined) {
      out += LATIN_SPECIAL[char];
    } else {
      out += char;
    }
    previous = char;
  }
  return out;
}

export function slugify(text: string): string {
  const latin = transliterate(text.replace(APOSTROPHES, ''))
    .normalize('NFKD')
    .replace(/\p{M}/gu, '') // accents: é → e
    .replace(/[^a-z0-9]+/g, '-')
    .replace(/^-+|-+$/g, '');
  if (latin.length <= MAX_SLUG_LENGTH) return latin;
  const cut = latin.slice(0, MAX_SLUG_LENGTH);
  // A word that ends exactly at the limit is kept whole.
  if (latin[MAX_SLUG_LENGTH] === '-') return cut;
  const lastHyphen = cut.lastIndexOf('-');
  return (lastHyphen > 0 ? cut.slice(0, lastHyphen) : cut).replace(/-+$/, '');
}
