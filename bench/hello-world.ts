/**
 * The ceiling of the ceiling: bare Fastify answering `{"hello":"world"}` from a compiled response
 * schema, no database. bench/run.ts measures it first in every run with the same load generator
 * and settings as the rows, which shows how far the generator and the machine reach.
 */
import Fastify from 'fastify';

const app = Fastify({ logger: false });
app.get('/', { schema: { response: { 200: { type: 'object', properties: { hello: { type: 'string' } } } } } }, async () => ({ hello: 'world' }));
await app.listen({ port: Number(process.env.PORT ?? 3100), host: process.env.HOST ?? '127.0.0.1' });
