/**
 * The document's component schemas, one per concept. @fastify/type-provider-zod writes every named
 * Zod schema twice, as the request reads it (`ArticleCreateInput`) and as a response writes it
 * (`ArticleCreate`), and keeps both whether used or not. Here each concept keeps one name: the
 * form that is used (a request body's input form, a response's output form), or the one both use
 * when they are the same. Nothing unused stays.
 */

type Json = Record<string, unknown>;
export interface ComponentsDocument {
  paths?: Json;
  components?: { schemas?: Record<string, Json> } & Json;
}

const SCHEMA_PREFIX = '#/components/schemas/';
const INPUT_SUFFIX = 'Input';

/** PostgreSQL's `integer`: every integer Lede stores, counts or accepts fits in it. */
const INT32 = { min: -2_147_483_648, max: 2_147_483_647 } as const;

/** Applies `visit` to every object in a value, depth first, and returns the value. */
function walk<T>(value: T, visit: (node: Json) => void): T {
  if (Array.isArray(value)) {
    for (const item of value) walk(item, visit);
  } else if (value !== null && typeof value === 'object') {
    visit(value as Json);
    for (const item of Object.values(value)) walk(item, visit);
  }
  return value;
}

function refsIn(value: unknown): Set<string> {
  const names = new Set<string>();
  walk(value, (node) => {
    if (typeof node.$ref === 'string' && node.$ref.startsWith(SCHEMA_PREFIX)) names.add(node.$ref.slice(SCHEMA_PREFIX.length));
  });
  return names;
}

/** The schemas the paths use, directly or through other schemas. */
function reachableSchemas(document: ComponentsDocument): Set<string> {
  const schemas = document.components?.schemas ?? {};
  const { schemas: _schemas, ...otherComponents } = document.components ?? {};
  const reached = new Set<string>();
  const pending = [...refsIn(document.paths), ...refsIn(otherComponents)];
  while (pending.length > 0) {
    const name = pending.pop()!;
    if (reached.has(name)) continue;
    reached.add(name);
    pending.push(...refsIn(schemas[name]));
  }
  return reached;
}

/** The input twin's name → its concept's name, for every twin the type provider wrote. */
function twinNames(schemas: Record<string, Json>): Map<string, string> {
  const twins = new Map<string, string>();
  for (const name of Object.keys(schemas)) {
    const concept = name.slice(0, -INPUT_SUFFIX.length);
    if (name.endsWith(INPUT_SUFFIX) && schemas[concept]) twins.set(name, concept);
  }
  return twins;
}

function renameRefs(value: unknown, renames: Map<string, string>): void {
  walk(value, (node) => {
    if (typeof node.$ref !== 'string' || !node.$ref.startsWith(SCHEMA_PREFIX)) return;
    const renamed = renames.get(node.$ref.slice(SCHEMA_PREFIX.length));
    if (renamed) node.$ref = `${SCHEMA_PREFIX}${renamed}`;
  });
}

/**
 * One schema per concept. Zod writes a plain object's output form closed (`additionalProperties:
 * false`) and its input form open (unknown fields are dropped, not refused): a concept used both
 * ways keeps the input form, which is true of both. Any other difference cannot share a name: it
 * fails the build, so it is settled in the Zod schema (its own id for the request form) rather
 * than hidden in the document.
 */
function mergeTwins(document: ComponentsDocument): void {
  const schemas = document.components?.schemas;
  if (!schemas) return;
  const used = reachableSchemas(document);
  const twins = twinNames(schemas);
  const asConcept = (schema: Json | undefined) =>
    JSON.stringify(schema, (key, value: unknown) => {
      if (key === 'additionalProperties' && value === false) return undefined;
      const name = key === '$ref' && typeof value === 'string' ? value.slice(SCHEMA_PREFIX.length) : undefined;
      return name !== undefined && twins.has(name) ? `${SCHEMA_PREFIX}${twins.get(name)}` : value;
    });
  for (const [input, concept] of twins) {
    if (used.has(input) && used.has(concept) && asConcept(schemas[input]) !== asConcept(schemas[concept])) {
      throw new Error(`OpenAPI: ${concept} differs between requests and responses; give the request form its own id`);
    }
    if (used.has(input)) schemas[concept] = schemas[input]!;
    delete schemas[input];
  }
  renameRefs(document.paths, twins);
  renameRefs(document.components, twins);
}

function dropUnused(document: ComponentsDocument): void {
  const schemas = document.components?.schemas;
  if (!schemas) return;
  const used = reachableSchemas(document);
  for (const name of Object.keys(schemas)) if (!used.has(name)) delete schemas[name];
}

/**
 * Zod's `.int()` bounds an integer by JavaScript's safe range (±2^53 − 1), which says nothing about
 * the API and which generators read as int64. Each integer is an int32 instead, its unset bounds
 * the int32 ones.
 */
function boundIntegers(document: ComponentsDocument): void {
  walk(document, (node) => {
    if (node.type !== 'integer') return;
    if (node.minimum === -Number.MAX_SAFE_INTEGER) delete node.minimum;
    if (node.maximum === Number.MAX_SAFE_INTEGER) delete node.maximum;
    if (node.minimum === undefined && node.exclusiveMinimum === undefined) node.minimum = INT32.min;
    if (node.maximum === undefined && node.exclusiveMaximum === undefined) node.maximum = INT32.max;
    node.format ??= 'int32';
  });
}

export function tidyComponents<T extends ComponentsDocument>(document: T): T {
  mergeTwins(document);
  dropUnused(document);
  boundIntegers(document);
  return document;
}
