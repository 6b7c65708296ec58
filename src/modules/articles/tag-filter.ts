import { sql, type SQL } from 'drizzle-orm';
import type { AnyPgColumn } from 'drizzle-orm/pg-core';
import type { Bind } from '../../db/prepared.js';
import { articleTags } from '../../db/schema/articles.js';
import { tags } from '../../db/schema/tags.js';

/*
 * "Articles having all of these tags", as article lists and the timeline filter by it: the same
 * SQL, the same placeholder values, the same part of the prepared statement's shape.
 */

/** Tag filters without repeats: "all of these tags" is the same question with a slug twice. */
export function distinctTags(slugs: string[] | undefined): string[] {
  return slugs ? [...new Set(slugs)] : [];
}

/** One tag, or several (one statement for any number, the slugs bound as an array), or none. */
export function tagsShape(slugs: string[] | undefined): string {
  const count = distinctTags(slugs).length;
  return count > 1 ? 'n' : String(count);
}

/**
 * The condition that the article `articleId` names carries every tag of `slugs` (tags in
 * `sameLocaleAs` only, where given); undefined without tags.
 */
export function allTagsCondition(articleId: AnyPgColumn, slugs: string[] | undefined, bind: Bind, sameLocaleAs?: AnyPgColumn): SQL | undefined {
  const distinct = distinctTags(slugs);
  const inLocale = sameLocaleAs ? sql` and ${tags.locale} = ${sameLocaleAs}` : sql``;
  if (distinct.length === 1) {
    return sql`exists (select 1 from ${articleTags} inner join ${tags} on ${tags.id} = ${articleTags.tagId}
      where ${articleTags.articleId} = ${articleId} and ${tags.slug} = ${bind('tag0', distinct[0])}${inLocale})`;
  }
  if (distinct.length > 1) {
    // One subquery whatever the number of tags, so the statement (and what the planner works
    // through) does not grow with each tag a client adds.
    return sql`(select count(distinct ${tags.slug}) from ${articleTags} inner join ${tags} on ${tags.id} = ${articleTags.tagId}
      where ${articleTags.articleId} = ${articleId}${inLocale} and ${tags.slug} = any(${bind('tags', distinct)}::text[])) = ${bind('tagCount', distinct.length)}::int`;
  }
  return undefined;
}

/** The placeholder values `allTagsCondition` binds. */
export function tagFilterValues(slugs: string[] | undefined): Record<string, unknown> {
  const distinct = distinctTags(slugs);
  if (distinct.length === 1) return { tag0: distinct[0] };
  if (distinct.length > 1) return { tags: distinct, tagCount: distinct.length };
  return {};
}
