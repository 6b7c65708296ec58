import sanitizeHtml from 'sanitize-html';

const LINK_PROTOCOLS = new Set(['http:', 'https:', 'mailto:']);

/**
 * A link's target as the WHATWG URL parser normalises it, or null: relative targets (`/x`,
 * `x.html`, `//host`, `#frag`), other schemes and targets with a user name or password are not
 * links we keep.
 */
export function linkTarget(href: string): string | null {
  if (!URL.canParse(href)) return null;
  const url = new URL(href);
  if (!LINK_PROTOCOLS.has(url.protocol) || url.username !== '' || url.password !== '') return null;
  return url.href;
}

/**
 * Inline text in article blocks may carry only links (absolute http, https, mailto), bold, italics
 * and line breaks. Everything else is removed on write and the clean form is what we store, so
 * every reader gets the same safe markup. Disallowed tags are dropped with their text kept; script
 * and style contents are dropped whole; a link whose target is not kept is unwrapped.
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
    a: (tagName, attribs): sanitizeHtml.Tag => {
      const href = attribs.href === undefined ? null : linkTarget(attribs.href);
      return { tagName, attribs: href === null ? {} : { href } };
    },
  },
};

export function sanitizeInline(html: string): string {
  const clean = sanitizeHtml(html, INLINE_POLICY);
  // An <a> that lost an unsafe href would be left as a bare <a>; unwrap it.
  return clean.replace(/<a>([\s\S]*?)<\/a>/g, '$1');
}

const HTML_UNESCAPES: Record<string, string> = { '&amp;': '&', '&lt;': '<', '&gt;': '>', '&quot;': '"', '&#39;': "'" };

/**
 * The visible text of inline HTML that `sanitizeInline` made, for search and plain-text
 * consumers. Clean markup has `<` and `>` only around its tags and no entities but these, so
 * no second parse is needed.
 */
export function inlineToText(cleanHtml: string): string {
  return cleanHtml
    .replace(/<br\s*\/?>/gi, ' ')
    .replace(/<[^>]*>/g, '')
    .replace(/&(?:amp|lt|gt|quot|#39);/g, (entity) => HTML_UNESCAPES[entity] ?? entity)
    .replace(/\s+/g, ' ')
    .trim();
}

const HTML_ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (char) => HTML_ESCAPES[char] ?? char);
}
