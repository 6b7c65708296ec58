import fastJsonStringify from 'fast-json-stringify';
import { createSerializerCompiler } from '@fastify/type-provider-zod';
import { z } from 'zod';
import type { FastifyInstance } from 'fastify';

type SerializerCompiler = Parameters<FastifyInstance['setSerializerCompiler']>[0];

const zodSerializerCompiler = createSerializerCompiler({});

/**
 * Response serialisation compiled from each route's Zod response schema: the schema becomes JSON
 * Schema once at startup and fast-json-stringify turns that into a function that writes exactly
 * the declared properties. Zod's encode-then-JSON.stringify walked every response twice and was
 * the largest share of a read's CPU after the query.
 *
 * With `validate` (the tests) each response is also checked against the Zod schema first, so a
 * handler drifting from its documented shape fails loudly; in production the shape is guaranteed
 * by the handlers' types and the suite. A schema that cannot be expressed in JSON Schema keeps
 * the Zod serialiser.
 */
/**
 * Formats and patterns only matter to a serialiser choosing a union's branch, and Lede's unions
 * differ by their properties; checking every uuid and date-time on the way out cost more than
 * writing them.
 */
function withoutFormats(schema: unknown): unknown {
  if (Array.isArray(schema)) return schema.map(withoutFormats);
  if (schema === null || typeof schema !== 'object') return schema;
  const result: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(schema)) {
    if ((key === 'format' || key === 'pattern') && typeof value === 'string') continue;
    result[key] = key === 'properties' || key === '$defs' || key === 'definitions'
      ? Object.fromEntries(Object.entries(value as Record<string, unknown>).map(([name, sub]) => [name, withoutFormats(sub)]))
      : withoutFormats(value);
  }
  return result;
}

export function compiledSerializerCompiler(options: { validate: boolean }): SerializerCompiler {
  return (routeSchema) => {
    const zodSerialize = zodSerializerCompiler(routeSchema as never) as (data: unknown) => string;
    const schema = routeSchema.schema;
    if (!(schema instanceof z.ZodType)) return zodSerialize;
    let stringify: (data: unknown) => string;
    try {
      const jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'throw' });
      stringify = fastJsonStringify(withoutFormats(jsonSchema) as never) as (data: unknown) => string;
    } catch {
      return zodSerialize;
    }
    if (!options.validate) return stringify;
    return (data) => {
      zodSerialize(data); // throws ResponseSerializationError on a mismatch
      return stringify(data);
    };
  };
}
