import { z } from 'zod';

/** RSS 2.0 and Atom 1.0: XML documents, served as they are written. */
export const FeedXml = z.string().meta({ description: 'The feed as an XML document (RSS 2.0 or Atom 1.0)' });

const JsonFeedItem = z.object({
  id: z.string().meta({ example: 'urn:uuid:3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f' }),
  url: z.string().meta({ description: "The item's URL in this API" }),
  title: z.string().optional().meta({ description: 'Plain text; absent for an entry without one' }),
  summary: z.string().optional().meta({ description: 'Plain text' }),
  content_html: z.string().optional().meta({ description: 'The body as sanitised HTML (else the summary)' }),
  date_modified: z.iso.datetime({ offset: true }),
  tags: z.array(z.string()).optional().meta({ description: "The tags' names, plain text" }),
  authors: z.array(z.object({ name: z.string() })).optional(),
});

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1), as `renderFeed` writes it. */
export const JsonFeed = z
  .object({
    version: z.literal('https://jsonfeed.org/version/1.1'),
    title: z.string(),
    home_page_url: z.string(),
    feed_url: z.string(),
    language: z.string().optional().meta({ example: 'en', description: 'The locale asked for, or the one every item shares; absent when items mix several' }),
    items: z.array(JsonFeedItem),
  })
  .meta({ id: 'JsonFeed', description: 'A feed as JSON Feed 1.1' });

/** A feed in the syntax its format names: XML text, or a JSON Feed object. */
export const FeedDocument = z.union([FeedXml, JsonFeed]);
