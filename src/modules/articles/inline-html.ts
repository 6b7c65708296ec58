import sanitizeHtml from 'sanitize-html';

/**
 * Inline text in article blocks may carry only links (http, https, mailto), bold, italics and
 * line breaks. Everything else is removed on write and the clean form is what we store, so every
 * reader gets the same safe markup. Disallowed tags are dropped with their text kept; script and
 * style contents are dropped whole.
 */
const INLINE_POLICY: sanitizeHtml.IOptions = {
  allowedTags: ['a', 'strong', 'em', 'br'],
  allowedAttributes: { a: ['href'] },
  allowedSchemes: ['http', 'https', 'mailto'],
  allowedSchemesAppliedToAttributes: ['href'],
  allowProtocolRelative: false,
  disallowedTagsMode: 'discard',
  nonTextTags: ['script', 'style', 'textarea', 'option', 'noscript', 'template'],
  transformTags: {
    b: 'strong',
    i: 'em',
  },
};

export function sanitizeInline(html: string): string {
  const clean = sanitizeHtml(html, INLINE_POLICY);
  // An <a> that lost an unsafe href would be left as a bare <a>; unwrap it.
  return clean.replace(/<a>([\s\S]*?)<\/a>/g, '$1');
}

/** The visible text of inline HTML, for search and plain-text consumers. */
export function inlineToText(html: string): string {
  return sanitizeHtml(html.replace(/<br\s*\/?>/gi, ' '), { allowedTags: [], allowedAttributes: {} })
    .replace(/&amp;/g, '&')
    .replace(/&lt;/g, '<')
    .replace(/&gt;/g, '>')
    .replace(/&quot;/g, '"')
    .replace(/&#39;/g, "'")
    .replace(/\s+/g, ' ')
    .trim();
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
