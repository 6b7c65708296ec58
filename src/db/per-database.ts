import type { Database } from './database.js';

/**
 * One instance of a service per database it runs on (the primary, each read replica), made on
 * first use: services keep prepared statements and other state per database. Bounded by the
 * configured databases.
 */
export function perDatabase<Service>(make: (db: Database) => Service): (db: Database) => Service {
  const made = new WeakMap<Database, Service>();
  return (db) => {
    let service = made.get(db);
    if (service === undefined) made.set(db, (service = make(db)));
    return service;
  };
}
