import { SaxesParser } from 'saxes';

/**
 * What a conforming XML 1.0 parser (namespaces on) finds wrong with a document: nothing when it is
 * well-formed. fast-xml-parser's XMLValidator is lenient (it accepts `<` in attribute values,
 * `]]>` in text and characters XML forbids), so a feed that passes it can still break a reader.
 */
export function xmlErrors(document: string): string[] {
  const parser = new SaxesParser({ xmlns: true });
  const errors: string[] = [];
  parser.on('error', (error) => errors.push(error.message));
  parser.write(document).close();
  return errors;
}

/** Characters XML 1.0 cannot carry at all, escaped or not. */
// eslint-disable-next-line no-control-regex -- finding control characters is the point
const NOT_XML = /[\u0000-\u0008\u000B\u000C\u000E-\u001F\uD800-\uDFFF\uFFFE\uFFFF]/gu;

/** A plain-text value as an XML document can hold it: what a strict parser must give back. */
export function asXmlText(text: string): string {
  return text.replace(NOT_XML, '');
}
