/* global module */
// Lets the public role read the three collections (find and findOne), as a site's readers would.
const READABLE = ['api::article.article', 'api::tag.tag', 'api::timeline-entry.timeline-entry'];

module.exports = {
  register() {},
  async bootstrap({ strapi }) {
    const role = await strapi.db.query('plugin::users-permissions.role').findOne({ where: { type: 'public' } });
    for (const uid of READABLE) {
      for (const action of ['find', 'findOne']) {
        const name = `${uid}.${action}`;
        const existing = await strapi.db.query('plugin::users-permissions.permission').findOne({ where: { action: name, role: role.id } });
        if (!existing) await strapi.db.query('plugin::users-permissions.permission').create({ data: { action: name, role: role.id } });
      }
    }
  },
};
