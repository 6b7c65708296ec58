/** Escapes LIKE wildcards so user text matches literally (used with the default `\` escape). */
export function escapeLike(text: string): string {
  return text.replace(/[\\%_]/g, (char) => `\\${char}`);
}
