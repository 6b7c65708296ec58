import { z } from 'zod';

export const SITEMAP_CONTENT_TYPE = 'application/xml; charset=utf-8';

/** A sitemap, served as the XML document it is. */
export const SitemapXml = z.string().meta({ description: 'The sitemap as an XML document' });

/** Nine digits at most: a page number whose offset PostgreSQL can still count. */
const PAGE_NUMBER = /^[1-9]\d{0,8}$/;

export const ArticlesPageParams = z.strictObject({
  page: z
    .string()
    .max(9, 'must be a page number: 1, 2, 3…')
    .regex(PAGE_NUMBER, 'must be a page number: 1, 2, 3…')
    .transform(Number)
    .meta({ description: 'The page number, from 1, as the sitemap index lists it', example: '1' }),
});
