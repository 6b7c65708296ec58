import type { ArticleStatus } from '../../db/schema/articles.js';
import { AppError } from '../../http/app-error.js';
import { effectiveStatus } from './visibility.js';

export type StatusAction = 'publish' | 'unpublish' | 'archive';

/** What a change of status writes. */
export interface StatusChange {
  status: ArticleStatus;
  publishedAt: Date | null;
}

function invalid(action: StatusAction, from: ArticleStatus, detail: string): AppError {
  return new AppError('INVALID_TRANSITION', `Cannot ${action} a ${from} article: ${detail}`);
}

/**
 * The only moves an article's status makes: draft → published | scheduled (publish; a future
 * publishAt schedules); scheduled → published (publish now) | draft (unpublish); published →
 * draft (unpublish) | archived (archive); archived → published (publish) | draft (unpublish).
 * A scheduled article whose time has come counts as published. Anything else is 409.
 *
 * `publishedAt` is the first publication time: kept when an article that went live is
 * unpublished, archived or published again, unless a publishAt is given. A scheduled article
 * that never went live has none once unpublished.
 */
export function statusChange(
  action: StatusAction,
  current: { status: ArticleStatus; publishedAt: Date | null },
  options: { publishAt?: Date } = {},
  now = new Date(),
): StatusChange {
  const from = effectiveStatus(current.status, current.publishedAt, now);
  switch (action) {
    case 'publish': {
      const at = options.publishAt;
      const inFuture = at !== undefined && at.getTime() > now.getTime();
      if (from === 'published') throw invalid(action, from, 'it is already published.');
      if (from === 'scheduled') {
        if (inFuture) throw invalid(action, from, 'to change its time, unpublish it, then publish it with the new publishAt.');
        return { status: 'published', publishedAt: at ?? now };
      }
      if (from === 'archived') {
        if (inFuture) throw invalid(action, from, 'an archived article is published again now or at a past time, not scheduled.');
        return { status: 'published', publishedAt: at ?? current.publishedAt ?? now };
      }
      // A draft: new, or unpublished (keeping its first publication time, if it ever went live).
      if (inFuture) return { status: 'scheduled', publishedAt: at };
      return { status: 'published', publishedAt: at ?? current.publishedAt ?? now };
    }
    case 'unpublish':
      if (from === 'draft') throw invalid(action, from, 'it is not published.');
      // A scheduled article that never went live had no publication yet.
      return { status: 'draft', publishedAt: from === 'scheduled' ? null : current.publishedAt };
    case 'archive':
      if (from !== 'published') throw invalid(action, from, 'only a published article is archived.');
      return { status: 'archived', publishedAt: current.publishedAt };
  }
}
