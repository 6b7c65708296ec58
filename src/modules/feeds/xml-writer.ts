/**
 * A small XML writer for the feeds. Every text node and attribute value goes through one escaping
 * function; there is no CDATA (a CDATA section cannot hold `]]>`, and splitting it is where feed
 * libraries go wrong). Element and attribute names are the writer's callers' own constants.
 */

/**
 * Characters XML 1.0 has no way to carry, escaped or not: C0 controls other than tab, LF and CR,
 * U+FFFE/U+FFFF, and lone surrogates. With the `u` flag a surrogate pair is one code point and does
 * not match, so only lone halves are dropped; that slower pattern runs only on text with surrogates.
 */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_XML_CONTROLS = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/g;
const LONE_SURROGATES = /[\uD800-\uDFFF]/gu;
const SURROGATE = /[\uD800-\uDFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const NOT_XML_CONTROL = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uFFFE\uFFFF]/;
/** Either of the above, in one scan: most text has neither, and an article body is long. */
// eslint-disable-next-line no-control-regex -- as above
const MAYBE_NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const NEEDS_WORK = /[&<>"'\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;
// eslint-disable-next-line no-control-regex -- as above
const TEXT_NEEDS_WORK = /[&<>\r\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/;

/** The text less what XML cannot carry. */
function legalXml(text: string): string {
  if (!MAYBE_NOT_XML.test(text)) return text;
  const paired = SURROGATE.test(text) ? text.replace(LONE_SURROGATES, '') : text;
  return NOT_XML_CONTROL.test(paired) ? paired.replace(NOT_XML_CONTROLS, '') : paired;
}

/*
 * One pass per character replaced: measured, V8's replace of a one-character pattern with a
 * string beats a single pass with a lookup callback or a hand-written loop over long bodies, and
 * appending to one string beats collecting pieces to join.
 */

/** Text as XML character data or an attribute value: what a parser reads back is the text itself. */
export function escapeXml(text: string): string {
  if (!NEEDS_WORK.test(text)) return text;
  // The apostrophe is a numeric reference because HTML 4 has no &apos;, and an RSS description is
  // read as HTML after XML. A parser reads a literal CR as LF; a reference comes through as written.
  return legalXml(text)
    .replace(/&/g, '&amp;')
    .replace(/</g, '&lt;')
    .replace(/>/g, '&gt;')
    .replace(/"/g, '&quot;')
    .replace(/'/g, '&#39;')
    .replace(/\r/g, '&#13;');
}

/**
 * Character data only: quotes mean nothing between tags, and `>` must be escaped only where it
 * would close `]]>`. An article body is full of quotes and `>`; leaving them spares a pass that
 * rewrites the whole body (measured: a 50-item RSS feed renders about half again as fast).
 */
function escapeText(text: string): string {
  if (!TEXT_NEEDS_WORK.test(text)) return text;
  const escaped = legalXml(text).replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/]]>/g, ']]&gt;');
  // A parser reads a literal CR as LF; CRs are rare, and looking for one is cheaper than a pass.
  return escaped.includes('\r') ? escaped.replace(/\r/g, '&#13;') : escaped;
}

/** A parser reads tab and LF in an attribute value as spaces: they stay only as references. */
function escapeAttribute(value: string): string {
  return escapeXml(value).replace(/\t/g, '&#9;').replace(/\n/g, '&#10;');
}

export type XmlAttributes = Readonly<Record<string, string | undefined>>;

/** Indentation by depth, made once: feeds nest a few levels at most. */
const INDENTS = Array.from({ length: 8 }, (_, depth) => `\n${'    '.repeat(depth)}`);
const indent = (depth: number) => INDENTS[depth] ?? `\n${'    '.repeat(depth)}`;

function attributes(values: XmlAttributes | undefined): string {
  let out = '';
  if (!values) return out;
  for (const name in values) {
    const value = values[name];
    if (value !== undefined) out += ` ${name}="${escapeAttribute(value)}"`;
  }
  return out;
}

/**
 * Writes one document, indented, element by element; `end` closes the innermost open element.
 * Pieces are collected and joined once: the document of a 50-item feed is a few hundred KB.
 */
export class XmlWriter {
  private document = '<?xml version="1.0" encoding="utf-8"?>';
  private readonly open: string[] = [];

  start(name: string, attrs?: XmlAttributes): this {
    this.document += `${indent(this.open.length)}<${name}${attributes(attrs)}>`;
    this.open.push(name);
    return this;
  }

  end(): this {
    const name = this.open.pop();
    if (name === undefined) throw new Error('XmlWriter: no element to end');
    this.document += `${indent(this.open.length)}</${name}>`;
    return this;
  }

  /** An element holding text (escaped); an empty string writes an empty element. */
  text(name: string, value: string, attrs?: XmlAttributes): this {
    this.document += `${indent(this.open.length)}<${name}${attributes(attrs)}>${escapeText(value)}</${name}>`;
    return this;
  }

  /** An element with attributes only. */
  empty(name: string, attrs: XmlAttributes): this {
    this.document += `${indent(this.open.length)}<${name}${attributes(attrs)}/>`;
    return this;
  }

  toString(): string {
    if (this.open.length > 0) throw new Error(`XmlWriter: <${this.open.at(-1)}> is still open`);
    return this.document;
  }
}
