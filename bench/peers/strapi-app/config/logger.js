/* global module */
// Strapi logs every request at its default level ('http'); the bench runs every server with
// LOG_LEVEL=warn, Lede and Directus too, so no server formats a log line per request.
module.exports = ({ env }) => ({ level: env('LOG_LEVEL', 'http') });
