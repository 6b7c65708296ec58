/**
 * Event types (DESIGN: Events). Public ones are what anonymous readers may follow; key-only ones
 * tell editors about drafts and schedules, which readers may not see.
 */
export const PUBLIC_EVENT_TYPES = [
  'article.published',
  'article.updated',
  'article.unpublished',
  'timeline.entry.created',
  'timeline.entry.updated',
  'timeline.entry.deleted',
  'tag.created',
  'tag.updated',
  'tag.deleted',
] as const;
export const KEY_ONLY_EVENT_TYPES = ['article.created', 'article.changed', 'article.scheduled'] as const;
export const EVENT_TYPES = [...PUBLIC_EVENT_TYPES, ...KEY_ONLY_EVENT_TYPES] as const;

export type EventType = (typeof EVENT_TYPES)[number];

const PUBLIC = new Set<string>(PUBLIC_EVENT_TYPES);
const isPublicType = (type: EventType): boolean => PUBLIC.has(type);

/** An event as a write emits it: `data` is the resource as its readers now see it, or `{id}`. */
export interface EventDraft {
  type: EventType;
  data: Record<string, unknown> & { id: string; surrogateKeys: string[] };
  /**
   * Whether anonymous readers get it: by default its type's; false for a public type about
   * something they may not see (the timeline entry of a draft, say), which keys still get.
   */
  public?: boolean;
}

export const isPublicEvent = (event: EventDraft): boolean => (event.public ?? true) && isPublicType(event.type);

/**
 * `article.*`, `*.deleted`, `tag.created`, `*`: the types a list of patterns names. Patterns are
 * checked against the known types, so an unknown one matches nothing rather than everything.
 */
export function typesMatching(patterns: string[]): EventType[] {
  const matchers = patterns.map((pattern) => new RegExp(`^${pattern.split('*').map((part) => part.replace(/[.+?^${}()|[\]\\]/g, '\\$&')).join('[a-z.]*')}$`));
  return EVENT_TYPES.filter((type) => matchers.some((matcher) => matcher.test(type)));
}
