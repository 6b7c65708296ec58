const UUID_SHAPE = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

/** Whether an `{idOrSlug}` path segment is read as an id (a slug shaped exactly like a UUID is read as one). */
export function looksLikeUuid(value: string): boolean {
  return UUID_SHAPE.test(value);
}
