import { XmlWriter } from '../feeds/xml-writer.js';

/*
 * The three documents, written with the feeds' XML writer, which escapes every text. Element names
 * are the protocols' own (sitemaps.org 0.9 and the Google News extension).
 */

export const SITEMAP_NAMESPACE = 'http://www.sitemaps.org/schemas/sitemap/0.9';
export const NEWS_NAMESPACE = 'http://www.google.com/schemas/sitemap-news/0.9';

/**
 * A W3C datetime in UTC to the second (`2024-11-22T14:30:00Z`): the form every sitemap reader
 * takes; the milliseconds Lede stores mean nothing to a crawler.
 */
export function w3cDatetime(date: Date): string {
  return date.toISOString().replace(/\.\d{3}Z$/, 'Z');
}

export interface NewsEntry {
  url: string;
  title: string;
  language: string;
  publishedAt: Date;
}

export function newsSitemap(publicationName: string, entries: NewsEntry[]): string {
  const xml = new XmlWriter().start('urlset', { xmlns: SITEMAP_NAMESPACE, 'xmlns:news': NEWS_NAMESPACE });
  for (const entry of entries) {
    xml
      .start('url')
      .text('loc', entry.url)
      .start('news:news')
      .start('news:publication')
      .text('news:name', publicationName)
      .text('news:language', entry.language)
      .end()
      .text('news:publication_date', w3cDatetime(entry.publishedAt))
      .text('news:title', entry.title)
      .end()
      .end();
  }
  return xml.end().toString();
}

export interface PageEntry {
  url: string;
  lastModified: Date;
}

export function urlSitemap(entries: PageEntry[]): string {
  const xml = new XmlWriter().start('urlset', { xmlns: SITEMAP_NAMESPACE });
  for (const entry of entries) {
    xml.start('url').text('loc', entry.url).text('lastmod', w3cDatetime(entry.lastModified)).end();
  }
  return xml.end().toString();
}

export interface IndexEntry {
  url: string;
  /** Absent for a page with nothing on it (the one page of an empty site). */
  lastModified?: Date;
}

export function sitemapIndex(entries: IndexEntry[]): string {
  const xml = new XmlWriter().start('sitemapindex', { xmlns: SITEMAP_NAMESPACE });
  for (const entry of entries) {
    xml.start('sitemap').text('loc', entry.url);
    if (entry.lastModified) xml.text('lastmod', w3cDatetime(entry.lastModified));
    xml.end();
  }
  return xml.end().toString();
}
