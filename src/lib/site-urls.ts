import type { Config } from '../config.js';
import { localDate } from './local-date.js';

/** What an article's page address can be made of. */
export interface ArticleUrlFields {
  id: string;
  slug: string;
  locale: string;
  section: string | null;
  /** A Date, or the ISO string an answer carries; read only when the path has a date in it. */
  publishedAt: Date | string | null;
  canonicalUrl?: string | null;
}

export interface TagUrlFields {
  id: string;
  slug: string;
  locale: string;
}

/** Pages of the news website (`SITE_URL`) and of this API, for links in answers, feeds and sitemaps. */
export interface SiteUrls {
  /** The website's home page; null while `SITE_URL` is unset. */
  readonly home: string | null;
  /**
   * The article's page: its `canonicalUrl` when set, else `SITE_URL` + `SITE_ARTICLE_PATH`. Null
   * while `SITE_URL` is unset, and for an article never published when the path has a date in it
   * (its date is not known yet).
   */
  article(article: ArticleUrlFields): string | null;
  tag(tag: TagUrlFields): string | null;
  /** The article in this API, for links while there is no website. */
  apiArticle(article: Pick<ArticleUrlFields, 'slug' | 'locale'>): string;
}

const DATE_PLACEHOLDERS = /\{(yyyy|mm|dd)\}/;

/** A value placed in a path: one segment, percent-encoded (slugs and locales need none). */
const segment = (value: string) => encodeURIComponent(value);

type PathValues = Record<string, string>;

/**
 * A path template (`/{section}/{slug}`) cut once into its literal parts and placeholders: every
 * article of every list page gets its address from it, and a regular-expression replace per
 * address was a few per cent of a list's CPU.
 */
function pathTemplate(path: string): (values: PathValues) => string {
  const parts = path.split(/\{([a-z]+)\}/);
  return (values) => {
    let filled = parts[0]!;
    for (let i = 1; i < parts.length; i += 2) filled += (values[parts[i]!] ?? '') + parts[i + 1]!;
    // An empty value (an article without a section) must not leave `//` behind.
    return filled.includes('//') ? filled.replace(/\/{2,}/g, '/') : filled;
  };
}

export function siteUrls(config: Pick<Config, 'SITE_URL' | 'SITE_ARTICLE_PATH' | 'SITE_TAG_PATH' | 'TIMEZONE' | 'PUBLIC_BASE_URL'>): SiteUrls {
  const root = config.SITE_URL ?? null;
  const articleNeedsDate = DATE_PLACEHOLDERS.test(config.SITE_ARTICLE_PATH);
  const articlePath = pathTemplate(config.SITE_ARTICLE_PATH);
  const tagPath = pathTemplate(config.SITE_TAG_PATH);
  const api = config.PUBLIC_BASE_URL;
  return {
    home: root === null ? null : `${root}/`,
    article(article) {
      if (article.canonicalUrl) return article.canonicalUrl;
      if (root === null) return null;
      const values: PathValues = {
        slug: segment(article.slug),
        id: article.id,
        locale: segment(article.locale),
        section: article.section ? segment(article.section) : '',
      };
      if (articleNeedsDate) {
        if (!article.publishedAt) return null;
        const publishedAt = typeof article.publishedAt === 'string' ? new Date(article.publishedAt) : article.publishedAt;
        const [yyyy = '', mm = '', dd = ''] = localDate(publishedAt, config.TIMEZONE).split('-');
        Object.assign(values, { yyyy, mm, dd });
      }
      return root + articlePath(values);
    },
    tag(tag) {
      if (root === null) return null;
      return root + tagPath({ slug: segment(tag.slug), id: tag.id, locale: segment(tag.locale) });
    },
    apiArticle: (article) => `${api}/v1/articles/${segment(article.slug)}?locale=${segment(article.locale)}`,
  };
}
