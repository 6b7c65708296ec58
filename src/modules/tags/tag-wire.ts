import { isoTime } from '../../http/common.schemas.js';
import type { SiteUrls } from '../../lib/site-urls.js';
import type { TagWithCount } from './tags.repository.js';
import type { TagWire } from './tags.schemas.js';

/** The tag as answers (and events) show it; `articleCount` is whatever its reader may count. */
export function tagWire(tag: TagWithCount, urls: Pick<SiteUrls, 'tag'>): TagWire {
  return {
    id: tag.id,
    slug: tag.slug,
    name: tag.name,
    description: tag.description,
    locale: tag.locale,
    articleCount: tag.articleCount,
    url: urls.tag(tag),
    createdAt: isoTime(tag.createdAt),
    updatedAt: isoTime(tag.updatedAt),
    version: tag.version,
  };
}
