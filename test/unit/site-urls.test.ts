import t from 'tap';
import { configFrom } from '../../src/config.js';
import { siteUrls } from '../../src/lib/site-urls.js';

const article = {
  id: '3f2a9c1e-5b7d-4e8a-9c0f-1a2b3c4d5e6f',
  slug: 'kyiv-braces',
  locale: 'uk',
  section: 'news',
  // 00:30 on 1 December in Kyiv, still 30 November in UTC.
  publishedAt: new Date('2024-11-30T22:30:00.000Z'),
};

t.test('without SITE_URL there are no site pages, only API links', async (t) => {
  const urls = siteUrls(configFrom());
  t.equal(urls.home, null);
  t.equal(urls.article(article), null);
  t.equal(urls.tag({ id: article.id, slug: 'energy', locale: 'en' }), null);
  t.equal(urls.article({ ...article, canonicalUrl: 'https://partner.example/story' }), 'https://partner.example/story', 'a canonical URL stands anyway');
  t.equal(urls.apiArticle(article), 'http://localhost:3000/v1/articles/kyiv-braces?locale=uk');
});

t.test('the paths are filled in, dates in the newsroom time zone', async (t) => {
  const urls = siteUrls(
    configFrom({
      SITE_URL: 'https://news.example/',
      SITE_ARTICLE_PATH: '/{locale}/{section}/{yyyy}/{mm}/{dd}/{slug}-{id}',
      SITE_TAG_PATH: '/{locale}/tag/{slug}',
      TIMEZONE: 'Europe/Kyiv',
    }),
  );
  t.equal(urls.home, 'https://news.example/');
  t.equal(urls.article(article), `https://news.example/uk/news/2024/12/01/kyiv-braces-${article.id}`);
  t.equal(urls.article({ ...article, section: null }), `https://news.example/uk/2024/12/01/kyiv-braces-${article.id}`, 'no section leaves no empty segment');
  t.equal(urls.article({ ...article, publishedAt: null }), null, 'a date path has no page before publication');
  t.equal(urls.article({ ...article, canonicalUrl: 'https://partner.example/story' }), 'https://partner.example/story');
  t.equal(urls.tag({ id: article.id, slug: 'energy', locale: 'en' }), 'https://news.example/en/tag/energy');
});

t.test('the default paths', async (t) => {
  const urls = siteUrls(configFrom({ SITE_URL: 'https://news.example' }));
  t.equal(urls.article({ ...article, publishedAt: null }), 'https://news.example/articles/kyiv-braces', 'no date needed, a draft has its page');
  t.equal(urls.tag({ id: article.id, slug: 'energy', locale: 'en' }), 'https://news.example/tags/energy');
});
