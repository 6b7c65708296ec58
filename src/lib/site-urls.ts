import type { Config } from '../config.js';
import { localDate } from './local-date.js';

/** What an article's page address can be made of. */
export interface ArticleUrlFields {
  id: string;
  slug: string;
  locale: string;
  section: string | null;
  publishedAt: Date | null;
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

function fill(path: string, values: Record<string, string>): string {
  // An empty value (an article without a section) must not leave `//` behind.
  return path.replace(/\{([a-z]+)\}/g, (_, name: string) => values[name] ?? '').replace(/\/{2,}/g, '/');
}

export function siteUrls(config: Pick<Config, 'SITE_URL' | 'SITE_ARTICLE_PATH' | 'SITE_TAG_PATH' | 'TIMEZONE' | 'PUBLIC_BASE_URL'>): SiteUrls {
  const root = config.SITE_URL ?? null;
  const articleNeedsDate = DATE_PLACEHOLDERS.test(config.SITE_ARTICLE_PATH);
  const api = config.PUBLIC_BASE_URL;
  return {
    home: root === null ? null : `${root}/`,
    article(article) {
      if (article.canonicalUrl) return article.canonicalUrl;
      if (root === null) return null;
      const values: Record<string, string> = {
        slug: segment(article.slug),
        id: article.id,
        locale: segment(article.locale),
        section: article.section ? segment(article.section) : '',
      };
      if (articleNeedsDate) {
        if (!article.publishedAt) return null;
        const [yyyy = '', mm = '', dd = ''] = localDate(article.publishedAt, config.TIMEZONE).split('-');
        Object.assign(values, { yyyy, mm, dd });
      }
      return root + fill(config.SITE_ARTICLE_PATH, values);
    },
    tag(tag) {
      if (root === null) return null;
      return root + fill(config.SITE_TAG_PATH, { slug: segment(tag.slug), id: tag.id, locale: segment(tag.locale) });
    },
    apiArticle: (article) => `${api}/v1/articles/${segment(article.slug)}?locale=${segment(article.locale)}`,
  };
}
