/* global module, require */
/* eslint-disable @typescript-eslint/no-require-imports -- Strapi loads CommonJS project files */
// Strapi's default controller.
module.exports = require('@strapi/strapi').factories.createCoreController('api::tag.tag');
