import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import { articles } from '../../db/schema/articles.js';

/**
 * Who is reading. Anonymous readers see only live articles; any key (reader and up) may also see
 * drafts, scheduled and archived ones, for previews. Deleted articles are seen by no one.
 */
export interface Viewer {
  seesUnpublished: boolean;
}

export const ANONYMOUS: Viewer = { seesUnpublished: false };
export const EDITORIAL: Viewer = { seesUnpublished: true };

/**
 * The one definition of "live": published, or scheduled with its time come. Decided at read time
 * from the database clock, so a scheduled article appears on every server at once with no job.
 */
type Column = AnyPgColumn | SQL;

export function liveCondition(table: { status: Column; publishedAt: Column; deletedAt: Column } = articles): SQL {
  return sql`(${table.deletedAt} is null and ${table.status} in ('published', 'scheduled') and ${table.publishedAt} <= now())`;
}

export function visibleTo(viewer: Viewer): SQL {
  return viewer.seesUnpublished ? sql`${articles.deletedAt} is null` : liveCondition();
}

/** The status a reader is shown: a scheduled article whose time has come is published. */
export function effectiveStatus<T extends string>(status: T, publishedAt: Date | null, now = new Date()): T | 'published' {
  return status === 'scheduled' && publishedAt !== null && publishedAt <= now ? 'published' : status;
}

/**
 * The publication time that article–tag links carry: set while the article is published or
 * scheduled, null otherwise, so "live articles with this tag" needs the link table alone.
 */
export function linkPublishedAt(article: { status: string; publishedAt: Date | null; deletedAt: Date | null }): Date | null {
  if (article.deletedAt !== null) return null;
  return article.status === 'published' || article.status === 'scheduled' ? article.publishedAt : null;
}

/** `liveCondition` for a row already read: what anonymous readers see of it at `now`. */
export function isLive(article: { status: string; publishedAt: Date | null; deletedAt: Date | null }, now = new Date()): boolean {
  return linkPublishedAt(article) !== null && article.publishedAt !== null && article.publishedAt <= now;
}
