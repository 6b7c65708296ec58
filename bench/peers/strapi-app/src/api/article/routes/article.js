/* global module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- Strapi loads CommonJS project files */
// Strapi's default routes (find, findOne, ...).
module.exports = require('@strapi/strapi').factories.createCoreRouter('api::article.article');
