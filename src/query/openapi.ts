/**
 * The OpenAPI 3.1 description served at `GET {basePath}/openapi.json`, framework-free. Nothing
 * here is written twice: the entry schema comes from FIELDS (src/entry.ts), the parameters
 * from the parsers' own lists (./parameters), the manual entry's fields from its validator, and
 * the limits from the instance's Config. Built once per router.
 */
import fs from 'fs';
import path from 'path';
import { FIELD_NAMES } from '../entry';
import { PROBLEM_KINDS } from '../integrity/report';
import type { Config } from '../options';
import { MANUAL_FIELDS } from './manual-entry';
import {
  EXPORT_PARAMETERS,
  FIELD_FILTERS,
  FILTER_CONTROLS,
  LIST_PARAMETERS,
  STATS_PARAMETERS,
  fieldSchema,
  type JsonSchema,
  type QueryParameter,
} from './parameters';
import { MAX_BUCKETS } from './stats';

type Doc = Record<string, unknown>;

const ref = (name: string) => ({ $ref: `#/components/schemas/${name}` });
const json = (schema: JsonSchema, description: string) => ({ description, content: { 'application/json': { schema } } });
const error = (description: string) => json(ref('Error'), description);
const integer = { type: 'integer', minimum: 0 };
const counts = { count: integer, errors: integer };

/** OpenAPI path templating for an Express path: `/auditLog/:id` → `/auditLog/{id}`. */
function pathOf(base: string, tail: string): string {
  return `${base}${tail}`.replace(/:([A-Za-z_]\w*)/g, '{$1}') || '/';
}

function describeParameter(parameter: QueryParameter, limits: Config): Doc {
  let schema = parameter.schema;
  if (parameter.name === '$limit') schema = { ...schema, maximum: limits.maxLimit, default: limits.defaultLimit };
  return {
    name: parameter.name,
    in: 'query',
    required: false,
    description: parameter.description,
    schema: parameter.repeatable ? { type: 'array', items: schema } : schema,
    ...(parameter.repeatable && { style: 'form', explode: true }),
  };
}

function pathParameter(name: string, description: string, schema: JsonSchema = { type: 'string' }): Doc {
  return { name, in: 'path', required: true, description, schema };
}

function schemas(config: Config): Record<string, JsonSchema> {
  const entryProperties = Object.fromEntries(FIELD_NAMES.map((field) => [field, fieldSchema(field)]));
  return {
    Entry: {
      type: 'object',
      description: 'One audit entry (src/entry.ts). Only _id is always there: $select returns fewer fields, and a transform may add some.',
      required: ['_id'],
      properties: entryProperties,
    },
    ManualEntry: {
      type: 'object',
      description: 'A manual entry: the server sets date, user of the poster (postedBy), ip, request id and the rest.',
      required: ['action'],
      additionalProperties: false,
      properties: Object.fromEntries(
        MANUAL_FIELDS.map((field) => [field, field === 'action' ? { type: 'string', minLength: 1, maxLength: 128 } : fieldSchema(field)]),
      ),
    },
    List: {
      type: 'object',
      required: ['docs', 'pages', 'items'],
      properties: {
        docs: { type: 'array', items: ref('Entry') },
        pages: {
          type: 'object',
          required: ['current', 'prev', 'hasPrev', 'next', 'hasNext', 'total'],
          properties: {
            current: { type: 'integer' },
            prev: { type: 'integer' },
            hasPrev: { type: 'boolean' },
            next: { type: 'integer' },
            hasNext: { type: 'boolean' },
            total: integer,
          },
        },
        items: {
          type: 'object',
          required: ['limit', 'begin', 'end', 'total'],
          properties: { limit: { type: 'integer', minimum: 1, maximum: config.maxLimit }, begin: integer, end: integer, total: integer },
        },
      },
    },
    Stats: {
      type: 'object',
      required: ['from', 'to', 'interval', 'intervalMs', 'groupBy', 'count', 'errors', 'buckets', 'groups', 'groupsTotal'],
      additionalProperties: false,
      properties: {
        from: { type: 'string', format: 'date-time' },
        to: { type: 'string', format: 'date-time' },
        interval: { type: 'string' },
        intervalMs: { type: 'integer', minimum: 1000 },
        groupBy: { type: ['string', 'null'] },
        ...counts,
        buckets: {
          type: 'array',
          maxItems: MAX_BUCKETS,
          items: {
            type: 'object',
            required: ['start', 'end', 'count', 'errors'],
            additionalProperties: false,
            properties: { start: { type: 'string', format: 'date-time' }, end: { type: 'string', format: 'date-time' }, ...counts },
          },
        },
        groups: {
          type: 'array',
          items: {
            type: 'object',
            required: ['key', 'count', 'errors'],
            additionalProperties: false,
            properties: { key: { type: ['string', 'number', 'boolean', 'null'] }, ...counts },
          },
        },
        groupsTotal: integer,
      },
    },
    VerifyReport: {
      type: 'object',
      required: ['ok', 'range', 'checked', 'checkpoints', 'problems', 'problemsTotal', 'expired', 'dropped', 'unprotected', 'unchained', 'notes'],
      properties: {
        ok: { type: 'boolean' },
        range: { type: 'object', properties: { from: { type: ['string', 'null'] }, to: { type: ['string', 'null'] } } },
        checked: {
          type: 'object',
          required: ['chains', 'entries', 'checkpoints', 'signatures'],
          properties: { chains: integer, entries: integer, checkpoints: integer, signatures: { type: 'string' } },
        },
        checkpoints: { type: 'string' },
        problems: {
          type: 'array',
          items: {
            type: 'object',
            required: ['kind', 'chain', 'message'],
            properties: { kind: { enum: [...PROBLEM_KINDS] }, chain: { type: ['string', 'null'] }, message: { type: 'string' } },
          },
        },
        problemsTotal: integer,
        expired: { type: 'array', items: ref('Run') },
        dropped: { type: 'array', items: ref('Run') },
        unprotected: { type: 'array', items: ref('Run') },
        unchained: integer,
        notes: { type: 'array', items: { type: 'string' } },
      },
    },
    RetentionReport: {
      type: 'object',
      required: ['rules'],
      additionalProperties: false,
      properties: {
        rules: {
          type: 'array',
          description: 'The retention rules in order, then a last line (default: true) for entries no rule matches, which follow ttl.',
          items: {
            type: 'object',
            required: ['action', 'collectionName', 'ttl', 'default', 'entries', 'held', 'oldestExpiry'],
            additionalProperties: false,
            properties: {
              action: { type: ['string', 'null'] },
              collectionName: { type: ['string', 'null'] },
              ttl: { type: ['integer', 'null'], minimum: 0, description: 'Seconds; null: kept forever.' },
              default: { type: 'boolean' },
              entries: integer,
              held: integer,
              oldestExpiry: { type: ['string', 'null'], format: 'date-time' },
            },
          },
        },
      },
    },
    Hold: {
      type: 'object',
      required: ['_id', 'reason', 'filter', 'placedAt', 'placedBy', 'releasedAt', 'releasedBy', 'active'],
      properties: {
        _id: { type: 'string', pattern: '^[0-9a-f]{24}$' },
        reason: { type: 'string' },
        filter: {
          type: 'object',
          description: "The list route's filter parameters it was placed with.",
          additionalProperties: { oneOf: [{ type: 'string' }, { type: 'array', items: { type: 'string' } }] },
        },
        placedAt: { type: 'string', format: 'date-time' },
        placedBy: { type: ['string', 'null'] },
        releasedAt: { type: ['string', 'null'], format: 'date-time' },
        releasedBy: { type: ['string', 'null'] },
        active: { type: 'boolean' },
        held: { ...integer, description: 'POST only: how many stored entries it marked.' },
        released: { ...integer, description: 'DELETE only: how many entries no other hold covers any more.' },
      },
    },
    Erasure: {
      type: 'object',
      required: ['erased', 'entry'],
      additionalProperties: false,
      properties: {
        erased: {
          type: 'object',
          required: ['entries', 'keys', 'subjects'],
          additionalProperties: false,
          properties: { entries: integer, keys: integer, subjects: { type: 'array', items: { type: 'string' } } },
        },
        entry: { type: ['string', 'null'], description: 'The id of the Erase entry that records it.' },
      },
    },
    Run: {
      type: 'object',
      required: ['chain', 'fromSeq', 'toSeq'],
      properties: { chain: { type: 'string' }, fromSeq: { type: 'integer' }, toSeq: { type: 'integer' } },
    },
    Error: {
      type: 'object',
      required: ['statusCode', 'error', 'message'],
      properties: {
        statusCode: { type: 'integer' },
        error: { type: 'string' },
        message: { type: 'string' },
        parameter: { type: 'string', description: 'The query parameter or body field that was refused (400).' },
      },
    },
  };
}

/** The package's version, for `info.version`: package.json is two levels up from src/query and from dist/query. */
export function packageVersion(): string {
  try {
    return (JSON.parse(fs.readFileSync(path.join(__dirname, '..', '..', 'package.json'), 'utf8')) as { version: string }).version;
  } catch {
    return '0.0.0';
  }
}

export function buildOpenApi(config: Config, version = packageVersion()): Doc {
  const base = config.basePath;
  // With publicRoutes the reads need no credentials; writes and verify always do.
  const reads = config.publicRoutes ? { security: [] } : {};
  const denied = config.publicRoutes ? {} : { 401: error('No credentials.'), 403: error('Missing the scope.') };
  const readErrors = { 400: error('A parameter was refused; `parameter` names it.'), ...denied, 503: error('The store is unavailable.') };
  const list = (parameters: readonly QueryParameter[]) => parameters.map((parameter) => describeParameter(parameter, config));
  const listAnswer = json(
    { oneOf: [ref('List'), { type: 'integer', minimum: 0, description: 'with $count=true' }] },
    'A page of entries, newest first unless $sort says otherwise.',
  );
  const history = LIST_PARAMETERS.filter((parameter) => parameter.name !== 'collectionName' && parameter.name !== 'documents');
  const ranges = FILTER_CONTROLS.filter((parameter) => parameter.name === 'from' || parameter.name === 'to');

  const paths: Record<string, Doc> = {
    [pathOf(base, '')]: {
      get: { operationId: 'listEntries', summary: 'List entries', ...reads, parameters: list(LIST_PARAMETERS), responses: { 200: listAnswer, ...readErrors } },
      post: {
        operationId: 'recordEntries',
        summary: 'Record manual entries',
        requestBody: {
          required: true,
          content: {
            'application/json': { schema: { oneOf: [ref('ManualEntry'), { type: 'array', minItems: 1, maxItems: 1000, items: ref('ManualEntry') }] } },
          },
        },
        responses: {
          201: json({ oneOf: [ref('Entry'), { type: 'array', items: ref('Entry') }] }, 'Stored.'),
          202: json({ oneOf: [ref('Entry'), { type: 'array', items: ref('Entry') }] }, 'Accepted and queued: the store did not confirm in time.'),
          204: { description: 'The transform option dropped the entry.' },
          400: error('A field was refused; `parameter` names it.'),
          401: error('No credentials.'),
          403: error('Missing the scope.'),
          405: error('Manual entries are turned off (manualEntries: false).'),
          415: error('Not JSON.'),
        },
      },
    },
    [pathOf(base, '/stats')]: {
      get: {
        operationId: 'entryStats',
        summary: 'Counts per time bucket and per group, errors apart',
        ...reads,
        parameters: list(STATS_PARAMETERS),
        responses: { 200: json(ref('Stats'), 'Counts.'), ...readErrors, 501: error('The store has no stats() method.') },
      },
    },
    [pathOf(base, '/history/:collection/:id')]: {
      get: {
        operationId: 'documentHistory',
        summary: "One document's history",
        ...reads,
        parameters: [pathParameter('collection', 'The collection.'), pathParameter('id', 'The document id.'), ...list(history)],
        responses: { 200: listAnswer, ...readErrors },
      },
    },
    [pathOf(base, '/export')]: {
      get: {
        operationId: 'exportEntries',
        summary: 'Stream matching entries as NDJSON or CSV',
        ...reads,
        parameters: list(EXPORT_PARAMETERS),
        responses: {
          200: {
            description: `Up to ${config.exportMaxRows} entries.`,
            content: { 'application/x-ndjson': { schema: { type: 'string' } }, 'text/csv': { schema: { type: 'string' } } },
          },
          ...readErrors,
        },
      },
    },
    [pathOf(base, '/verify')]: {
      get: {
        operationId: 'verifyLog',
        summary: 'Check the hash chains and signed checkpoints (integrity option)',
        parameters: list(ranges),
        responses: {
          200: json(ref('VerifyReport'), 'What the verification found.'),
          400: error('A parameter was refused.'),
          401: error('No credentials.'),
          403: error('Missing the scope (verifyScope).'),
          404: error('The integrity option is off.'),
          429: error('A verification is already running.'),
          503: error('The store is unavailable.'),
        },
      },
    },
    // Governance and erasure routes (issue 16).
    [pathOf(base, '/retention')]: {
      get: {
        operationId: 'retentionReport',
        summary: 'The retention rules in force, with the entries each governs',
        ...reads,
        responses: { 200: json(ref('RetentionReport'), 'The report.'), ...readErrors },
      },
    },
    [pathOf(base, '/holds')]: {
      post: {
        operationId: 'placeHold',
        summary: 'Place a legal hold (holdScope)',
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: {
                type: 'object',
                required: ['filter', 'reason'],
                properties: {
                  filter: { type: 'object', description: "The list route's filter parameters (field filters, from/to, $where, $term), as in a query string." },
                  reason: { type: 'string', minLength: 1 },
                },
              },
            },
          },
        },
        responses: {
          201: json(ref('Hold'), 'The hold, with how many entries it holds.'),
          400: error('A field was refused.'),
          401: error('No credentials.'),
          403: error('Missing holdScope, or holds are off.'),
          501: error('The store has no hold methods.'),
        },
      },
      get: {
        operationId: 'listHolds',
        summary: 'List legal holds (holdScope)',
        responses: { 200: json({ type: 'array', items: ref('Hold') }, 'Every hold.'), 401: error('No credentials.'), 403: error('Missing holdScope.') },
      },
    },
    [pathOf(base, '/holds/:id')]: {
      delete: {
        operationId: 'releaseHold',
        summary: 'Release a legal hold (holdScope)',
        parameters: [pathParameter('id', 'The hold id.')],
        responses: {
          200: json(ref('Hold'), 'The released hold.'),
          401: error('No credentials.'),
          403: error('Missing holdScope.'),
          404: error('No such hold.'),
        },
      },
    },
    [pathOf(base, '/erasures')]: {
      post: {
        operationId: 'eraseUser',
        summary: "Erase a user's sealed data (encryption option, eraseScope)",
        requestBody: {
          required: true,
          content: {
            'application/json': {
              schema: { type: 'object', required: ['user'], properties: { user: { type: ['string', 'number'] } }, additionalProperties: false },
            },
          },
        },
        responses: {
          200: json(ref('Erasure'), 'What was erased.'),
          400: error('A field was refused.'),
          401: error('No credentials.'),
          403: error('Missing eraseScope.'),
          404: error('The encryption option is off.'),
          415: error('Not JSON.'),
        },
      },
    },
    [pathOf(base, '/openapi.json')]: {
      get: {
        operationId: 'openApi',
        summary: 'This description',
        ...reads,
        responses: { 200: json({ type: 'object' }, 'OpenAPI 3.1.'), ...denied },
      },
    },
    [pathOf(base, '/:id')]: {
      get: {
        operationId: 'getEntry',
        summary: 'One entry',
        ...reads,
        parameters: [pathParameter('id', 'The entry id.', fieldSchema('_id')), ...list(LIST_PARAMETERS.filter((p) => p.name === '$select'))],
        responses: { 200: json(ref('Entry'), 'The entry.'), ...readErrors, 404: error('No entry has that id.') },
      },
    },
  };
  if (config.ui) {
    paths[pathOf(base, '/ui')] = {
      get: {
        operationId: 'adminPage',
        summary: 'The admin page (public chrome: it asks for a token and calls the routes above)',
        security: [],
        responses: { 200: { description: 'HTML', content: { 'text/html': { schema: { type: 'string' } } } } },
      },
    };
  }

  return {
    openapi: '3.1.0',
    info: {
      title: 'express-audit-log',
      version,
      description: `The audit log's query routes under ${base}. Every field filter is an equality (${FIELD_FILTERS.length} filterable fields); see the README.`,
    },
    jsonSchemaDialect: 'https://spec.openapis.org/oas/3.1/dialect/base',
    security: [{ bearer: [] }],
    paths,
    components: {
      schemas: schemas(config),
      securitySchemes: {
        bearer: { type: 'http', scheme: 'bearer', description: "The app's own authentication (req.auth, or the getAuth option); the scope option decides." },
      },
    },
  };
}
