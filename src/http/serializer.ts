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

type JsonSchema = Record<string, unknown>;

/**
 * A top-level union (the timeline answers a page or days) would make fast-json-stringify validate
 * each response against the branches to pick one. When every branch requires a property no other
 * branch requires, that property picks the branch instead, and each branch gets its own function.
 */
function compileUnion(jsonSchema: JsonSchema): ((data: unknown) => string) | null {
  const branches = jsonSchema.anyOf;
  if (!Array.isArray(branches) || branches.length < 2) return null;
  const definitions = (jsonSchema.definitions ?? {}) as Record<string, JsonSchema>;
  const resolve = (branch: JsonSchema): JsonSchema => {
    const ref = typeof branch.$ref === 'string' ? /^#\/definitions\/(.+)$/.exec(branch.$ref) : null;
    return ref ? (definitions[decodeURIComponent(ref[1]!)] ?? branch) : branch;
  };
  const required = (branches as JsonSchema[]).map((branch) => (Array.isArray(resolve(branch).required) ? (resolve(branch).required as string[]) : []));
  const markers = required.map((keys, i) => keys.find((key) => required.every((other, j) => j === i || !other.includes(key))));
  if (markers.some((marker) => marker === undefined)) return null;
  const stringifiers = (branches as JsonSchema[]).map((branch) => fastJsonStringify({ ...branch, definitions } as never) as (data: unknown) => string);
  return (data) => {
    const index = markers.findIndex((marker) => typeof data === 'object' && data !== null && marker! in data);
    return stringifiers[index === -1 ? 0 : index]!(data);
  };
}

export function compiledSerializerCompiler(options: { validate: boolean }): SerializerCompiler {
  return (routeSchema) => {
    const zodSerialize = zodSerializerCompiler(routeSchema as never) as (data: unknown) => string;
    const schema = routeSchema.schema;
    if (!(schema instanceof z.ZodType)) return zodSerialize;
    let stringify: (data: unknown) => string;
    try {
      const jsonSchema = z.toJSONSchema(schema, { io: 'output', target: 'draft-7', unrepresentable: 'throw' });
      const plain = withoutFormats(jsonSchema) as JsonSchema;
      stringify = compileUnion(plain) ?? (fastJsonStringify(plain as never) as (data: unknown) => string);
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
