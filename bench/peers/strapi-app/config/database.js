/* global module */
// PostgreSQL, as Lede: the database bench/peers/strapi.ts creates and fills.
module.exports = ({ env }) => ({
  connection: {
    client: 'postgres',
    connection: { connectionString: env('DATABASE_URL') },
    pool: { min: 2, max: 10 },
  },
});
