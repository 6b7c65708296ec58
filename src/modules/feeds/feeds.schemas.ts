import { z } from 'zod';

/** RSS 2.0 and Atom 1.0: XML documents, served as they are written. */
export const FeedXml = z.string().meta({ description: 'The feed as an XML document (RSS 2.0 or Atom 1.0)' });

const Author = z.object({ name: z.string() });

const JsonFeedItem = z.object({
  id: z.string().meta({ example: 'urn:uuid:3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f' }),
  url: z.string().meta({ description: "The item's page on the news website (SITE_URL), else its address in this API" }),
  title: z.string().optional().meta({ description: 'Plain text; absent for an entry without one' }),
  summary: z.string().optional().meta({ description: 'Plain text' }),
  content_html: z.string().optional().meta({ description: "An article's body as sanitised HTML" }),
  content_text: z.string().optional().meta({ description: 'Plain text, for items without an HTML body (timeline lines)' }),
  image: z.string().optional().meta({ description: "The article's cover image" }),
  date_published: z.iso.datetime({ offset: true }).meta({ description: 'First publication (a timeline line: when it happened)' }),
  date_modified: z.iso.datetime({ offset: true }).meta({ description: 'Last change; never before date_published' }),
  tags: z.array(z.string()).optional().meta({ description: "The tags' names, plain text" }),
  authors: z.array(Author).optional().meta({ description: 'The byline' }),
});

/** JSON Feed 1.1 (https://jsonfeed.org/version/1.1), as `renderFeed` writes it. */
export const JsonFeed = z
  .object({
    version: z.literal('https://jsonfeed.org/version/1.1'),
    title: z.string().meta({ example: 'Lede — Latest articles' }),
    description: z.string(),
    home_page_url: z.string().meta({ description: "The news website's home page (a tag feed: the tag's page), else the API list" }),
    feed_url: z.string(),
    language: z.string().optional().meta({ example: 'en', description: 'The locale asked for, or the one every item shares; absent when items mix several' }),
    authors: z.array(Author).meta({ description: 'The newsroom (NEWSROOM_NAME)' }),
    items: z.array(JsonFeedItem),
  })
  .meta({ id: 'JsonFeed', description: 'A feed as JSON Feed 1.1' });

/** A feed in the syntax its format names: XML text, or a JSON Feed object. */
export const FeedDocument = z.union([FeedXml, JsonFeed]);
