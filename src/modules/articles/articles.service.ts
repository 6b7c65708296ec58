import type { Alongside, ContentChanges, Emit, MarkChanged } from '../../cache/content-changes.js';
import type { Database } from '../../db/database.js';
import { isForeignKeyViolation, isUniqueViolation } from '../../db/errors.js';
import { AppError, type FieldError } from '../../http/app-error.js';
import { WWW_AUTHENTICATE } from '../../http/auth.js';
import { isoTime } from '../../http/common.schemas.js';
import { staleVersion } from '../../http/preconditions.js';
import { slugify } from '../../lib/slug.js';
import { articleNotFound, articleWire } from './articles.read.js';
import * as repo from './articles.repository.js';
import type { ArticleCreateInput, ArticleUpdateInput, ArticleWire } from './articles.schemas.js';
import { bodyText, embedsOutside, type Block } from './blocks.js';
import { type StatusChange, statusChange } from './transitions.js';
import { EDITORIAL } from './visibility.js';
import { syncArticleEntries } from '../timeline/timeline.repository.js';
import { createdEvents, editEvents, stateChangeEvents } from '../../events/article-events.js';
import type { EventDraft } from '../../events/event-types.js';
import { articleChangeKeys } from './article-keys.js';
import { type ArticleUrls, CANONICAL_URLS_ONLY } from './article-url.js';

/** Who saves a change: recorded with every revision. */
export interface Author {
  keyId: string | null;
  name: string;
}

function slugTaken(slug: string, locale: string): AppError {
  return new AppError('ARTICLE_SLUG_TAKEN', `Another article in locale ${locale} already has the slug "${slug}".`, [
    { path: 'body.slug', message: 'already in use' },
  ]);
}

function unknownReferences(errors: FieldError[]): AppError {
  return new AppError('UNKNOWN_REFERENCE', 'Some referenced tags or articles do not exist; nothing was written.', errors);
}

/**
 * Tags and related articles named by a write, checked to exist, in the client's order. Tags are
 * the article's locale's, whether named by id or by slug (docs/adr/0009-locales.md).
 */
async function resolveReferences(
  tx: Database,
  input: Pick<ArticleCreateInput, 'tagIds' | 'tagSlugs' | 'relatedIds' | 'body'>,
  locale: string,
  selfId: string | null,
): Promise<{ tagIds?: string[]; relatedIds?: string[] }> {
  const errors: FieldError[] = [];
  let tagIds: string[] | undefined;
  if (input.tagIds) {
    const found = await repo.tagLocales(tx, input.tagIds);
    input.tagIds.forEach((id, i) => {
      const tagLocale = found.get(id);
      if (tagLocale === undefined) errors.push({ path: `body.tagIds.${i}`, message: `no tag has the id ${id}` });
      else if (tagLocale !== locale) errors.push({ path: `body.tagIds.${i}`, message: `the tag ${id} is in locale ${tagLocale}, the article in ${locale}` });
    });
    tagIds = [...new Set(input.tagIds)];
  } else if (input.tagSlugs) {
    const found = await repo.tagIdsBySlug(tx, locale, input.tagSlugs);
    input.tagSlugs.forEach(
      (slug, i) => found.has(slug) || errors.push({ path: `body.tagSlugs.${i}`, message: `no tag has the slug "${slug}" in locale ${locale}` }),
    );
    tagIds = [...new Set(input.tagSlugs.flatMap((slug) => found.get(slug) ?? []))];
  }
  const blockRefs = (input.body ?? []).flatMap((block, i) => (block.type === 'related' ? [{ id: block.articleId, i }] : []));
  const wanted = [...(input.relatedIds ?? []), ...blockRefs.map((ref) => ref.id)];
  const existing = await repo.existingArticleIds(tx, wanted);
  const check = (id: string, path: string) => {
    if (id === selfId) errors.push({ path, message: 'an article cannot refer to itself' });
    else if (!existing.has(id)) errors.push({ path, message: `no article has the id ${id}` });
  };
  input.relatedIds?.forEach((id, i) => check(id, `body.relatedIds.${i}`));
  blockRefs.forEach((ref) => check(ref.id, `body.body.${ref.i}.articleId`));
  if (errors.length > 0) throw unknownReferences(errors);
  return { tagIds, relatedIds: input.relatedIds && [...new Set(input.relatedIds)] };
}

/**
 * Emits a write's events and marks their keys (a timeline entry's own page among them) for the
 * response cache, so what a CDN is told to purge is what this process drops.
 */
function announce(changed: MarkChanged, emit: Emit, events: EventDraft[]): void {
  for (const event of events) changed(...event.data.surrogateKeys);
  emit(...events);
}

/** article_revisions.saved_by_key_id -> api_keys.id (migrations/0001_articles.sql). */
const REVISION_KEY_FOREIGN_KEY = 'article_revisions_saved_by_key_id_api_keys_id_fk';

/** A new article with neither tags nor "Read also" links to nothing: no query needed to know. */
const NO_LINKS: repo.ArticleLinks = { tags: [], related: [], inTimeline: false };

/** EMBED_HOSTS: embed blocks from any other host are refused; absent, any host is allowed. */
function checkEmbedHosts(body: Block[] | undefined, hosts: ReadonlySet<string> | null): void {
  if (!body || !hosts) return;
  const errors = embedsOutside(body, hosts);
  if (errors.length > 0) throw new AppError('VALIDATION_FAILED', 'Some embeds are from hosts this newsroom does not allow.', errors);
}

export function articlesService(
  db: Database,
  changes: ContentChanges,
  defaults: { locale: string; embedHosts?: readonly string[]; urls?: ArticleUrls },
) {
  const embedHosts = defaults.embedHosts ? new Set(defaults.embedHosts) : null;
  // Events carry the article's page address, as answers do.
  const urls = defaults.urls ?? CANONICAL_URLS_ONLY;

  /** Saves the revision of a change and answers the article as editors now see it. */
  /** The editor's view of `row` as saved: its revision rides along with the write's closing statement. */
  async function saveRevision(
    tx: Database,
    alongside: Alongside,
    row: repo.ArticleRow,
    links: repo.ArticleLinks,
    author: Author,
  ): Promise<ArticleWire> {
    const snapshot = await articleWire(tx, { ...row, tags: links.tags, related: links.related }, EDITORIAL);
    const values = { articleId: row.id, version: row.version, snapshot, savedByKeyId: author.keyId, savedByName: author.name };
    alongside(repo.revisionInsert(tx, values), (error) => {
      // The key was resolved from the process's copy, but its row has since been deleted (in
      // SQL: the API only revokes). It is no key any more: refuse, and roll the write back.
      if (isForeignKeyViolation(error, REVISION_KEY_FOREIGN_KEY)) {
        throw new AppError('INVALID_API_KEY', 'The API key is unknown or has been revoked.', undefined, WWW_AUTHENTICATE);
      }
    });
    return snapshot;
  }

  /**
   * Checks If-Match against `current` (read in this transaction), then applies `changes` only if
   * the article is still at that version.
   */
  async function conditionalUpdate(
    tx: Database,
    current: repo.ArticleRow,
    versions: number[],
    changes: (current: repo.ArticleRow) => Partial<repo.ArticleValues> & { deletedAt?: Date },
  ): Promise<{ before: repo.ArticleRow; after: repo.ArticleRow }> {
    const before = current;
    if (!versions.includes(before.version)) throw staleVersion('article');
    const change = changes(before);
    const merged = { ...before, ...change };
    const touchesSearch = 'title' in change || 'lead' in change || 'body' in change;
    const searchable = touchesSearch ? { title: merged.title, lead: merged.lead, text: bodyText(merged.body) } : null;
    let after: repo.ArticleRow | undefined;
    try {
      after = await repo.updateArticleIfVersion(tx, before.id, versions, change, searchable);
    } catch (error) {
      if (isUniqueViolation(error)) throw slugTaken(merged.slug, merged.locale);
      throw error;
    }
    // Another writer got there between our read and our write.
    if (!after) throw staleVersion('article');
    return { before, after };
  }

  /**
   * A change of state (status, publication time, deletion): the article's tag links and timeline
   * entries follow it, and readers' copies are invalidated. Returns the row before and after,
   * its links and entries, and the keys marked.
   */
  async function changeState(
    tx: Database,
    changed: MarkChanged,
    id: string,
    versions: number[],
    next: (current: repo.ArticleRow) => Partial<repo.ArticleValues> & { deletedAt?: Date },
    timeline: { create: boolean },
  ) {
    // Held first, then read with its links (a change of state keeps them, so the revision needs no
    // second read): a concurrent tag change is then either wholly before or wholly after this one.
    const current = (await repo.lockArticle(tx, id)) ? await repo.findArticleWithLinks(tx, { id }, EDITORIAL) : undefined;
    if (!current) throw articleNotFound(id);
    const { before, after } = await conditionalUpdate(tx, current, versions, next);
    if (current.tags.length > 0) await repo.syncTagLinks(tx, after); // links exist only for tags
    const entries = await syncArticleEntries(tx, after, timeline);
    const links = { tags: current.tags, related: current.related, inTimeline: entries.length > 0 };
    const keys = articleChangeKeys(before, after, links);
    changed(...keys);
    return { before, after, links, entries, keys };
  }

  async function changeStatus(
    id: string,
    versions: number[],
    author: Author,
    next: (current: repo.ArticleRow) => StatusChange,
    timeline: { create: boolean } = { create: false },
  ): Promise<ArticleWire> {
    return changes.write(async (tx, changed, emit, alongside) => {
      const change = await changeState(tx, changed, id, versions, next, timeline);
      const editorView = await saveRevision(tx, alongside, change.after, change.links, author);
      announce(changed, emit, await stateChangeEvents(tx, { ...change, editorView }, urls, change.keys));
      return editorView;
    });
  }

  return {
    async create(input: ArticleCreateInput, author: Author): Promise<ArticleWire> {
      checkEmbedHosts(input.body, embedHosts);
      const locale = input.locale ?? defaults.locale;
      const slug = input.slug ?? slugify(input.title);
      if (slug === '') {
        throw new AppError('VALIDATION_FAILED', 'No slug can be made from this title; send one.', [
          { path: 'body.slug', message: 'required when the title has no letters or digits' },
        ]);
      }
      return changes.write(async (tx, changed, emit, alongside) => {
        const refs = await resolveReferences(tx, input, locale, null);
        const body: Block[] = input.body ?? [];
        let row: repo.ArticleRow;
        try {
          row = await repo.insertArticle(
            tx,
            {
              locale,
              slug,
              status: 'draft',
              title: input.title,
              lead: input.lead ?? null,
              body,
              label: input.label ?? null,
              section: input.section ?? null,
              byline: input.byline ?? null,
              sources: input.sources ?? [],
              coverImage: input.coverImage ?? null,
              canonicalUrl: input.canonicalUrl ?? null,
              publishedAt: null,
            },
            bodyText(body),
          );
        } catch (error) {
          if (isUniqueViolation(error)) throw slugTaken(slug, locale);
          throw error;
        }
        alongside(repo.redirectRemoval(tx, locale, slug));
        if (refs.tagIds) await repo.replaceTags(tx, row, refs.tagIds);
        if (refs.relatedIds) await repo.replaceRelated(tx, row.id, refs.relatedIds);
        const links = refs.tagIds?.length || refs.relatedIds?.length ? await repo.linksOf(tx, row.id) : NO_LINKS;
        const keys = articleChangeKeys(null, row, links);
        const editorView = await saveRevision(tx, alongside, row, links, author);
        announce(changed, emit, createdEvents(editorView, urls, keys));
        return editorView;
      });
    },

    async update(id: string, versions: number[], patch: ArticleUpdateInput, author: Author): Promise<ArticleWire> {
      checkEmbedHosts(patch.body, embedHosts);
      return changes.write(async (tx, changed, emit, alongside) => {
        const current = await repo.findArticleHeld(tx, id, 'no key update');
        if (!current) throw articleNotFound(id);
        const refs = await resolveReferences(tx, patch, patch.locale ?? current.locale, id);
        if (patch.locale && patch.locale !== current.locale && !refs.tagIds) {
          const stranded = await repo.tagSlugsOutside(tx, id, patch.locale);
          if (stranded.length > 0) {
            throw unknownReferences([
              { path: 'body.locale', message: `its tags ${stranded.join(', ')} are not in locale ${patch.locale}: send tagIds or tagSlugs of that locale with it` },
            ]);
          }
        }
        const { tagIds: _t, tagSlugs: _s, relatedIds: _r, ...fields } = patch;
        const { before, after } = await conditionalUpdate(tx, current, versions, () => fields);
        if (before.slug !== after.slug || before.locale !== after.locale) {
          await repo.recordSlugChange(tx, id, before.locale, before.slug);
          await repo.removeRedirect(tx, after.locale, after.slug);
        }
        const tagIdsBefore = refs.tagIds ? await repo.tagIdsOf(tx, id) : [];
        if (refs.tagIds) await repo.replaceTags(tx, after, refs.tagIds);
        if (refs.relatedIds) await repo.replaceRelated(tx, id, refs.relatedIds);
        const links = await repo.linksOf(tx, id);
        const keys = articleChangeKeys(before, after, links, tagIdsBefore);
        const editorView = await saveRevision(tx, alongside, after, links, author);
        announce(changed, emit, await editEvents(tx, { before, after, links, editorView }, urls, keys));
        return editorView;
      });
    },

    /**
     * Now or in the past: published. In the future: scheduled, and live when the time comes. Only
     * the moves in transitions.ts are allowed (409 otherwise); publishedAt stays the first
     * publication time unless `publishAt` is given. The article's timeline entry is made unless
     * `addToTimeline` is false.
     */
    publish(
      id: string,
      versions: number[],
      options: { publishAt?: Date; addToTimeline?: boolean },
      author: Author,
    ): Promise<ArticleWire> {
      return changeStatus(id, versions, author, (current) => statusChange('publish', current, { publishAt: options.publishAt }), {
        create: options.addToTimeline !== false,
      });
    },

    /** Back to draft, keeping the first publication time; a draft is 409. */
    unpublish(id: string, versions: number[], author: Author): Promise<ArticleWire> {
      return changeStatus(id, versions, author, (current) => statusChange('unpublish', current));
    },

    /** Only a published article is archived; anything else is 409. */
    archive(id: string, versions: number[], author: Author): Promise<ArticleWire> {
      return changeStatus(id, versions, author, (current) => statusChange('archive', current));
    },

    /** Gone from every read; its revisions stay for editors. */
    async remove(id: string, versions: number[]): Promise<void> {
      await changes.write(async (tx, changed, emit) => {
        const change = await changeState(tx, changed, id, versions, () => ({ deletedAt: new Date() }), { create: false });
        announce(changed, emit, await stateChangeEvents(tx, { ...change, editorView: null }, urls, change.keys));
      });
    },

    async revisions(id: string) {
      const rows = await repo.listRevisions(db, id);
      if (rows.length === 0 && !(await repo.articleEverExisted(db, id))) throw articleNotFound(id);
      return rows.map((row) => ({
        version: row.version,
        savedAt: isoTime(row.savedAt),
        savedBy: { keyId: row.savedByKeyId, name: row.savedByName },
      }));
    },

    async revision(id: string, version: number) {
      const row = await repo.findRevision(db, id, version);
      if (!row) {
        if (!(await repo.articleEverExisted(db, id))) throw articleNotFound(id);
        throw new AppError('REVISION_NOT_FOUND', `Article ${id} has no version ${version}.`);
      }
      return {
        version: row.version,
        savedAt: isoTime(row.savedAt),
        savedBy: { keyId: row.savedByKeyId, name: row.savedByName },
        article: row.snapshot as ArticleWire,
      };
    },
  };
}

export type ArticlesService = ReturnType<typeof articlesService>;
