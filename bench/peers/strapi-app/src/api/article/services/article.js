/* global module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- Strapi loads CommonJS project files */
// Strapi's default service.
module.exports = require('@strapi/strapi').factories.createCoreService('api::article.article');
