/**
 * Infers an association's type from the mongoose models registered on a connection, the way
 * rest-hapi's own models declare them: both sides hold arrays of refs → MANY_MANY; the child
 * holds one ref back to the owner → ONE_MANY; only the owner holds an array of refs → _MANY.
 * Path segments are matched to models by collection name or model name, any case, plural or not.
 */
import type { Connection, Model, Schema } from 'mongoose';
import type { AssociationType } from '../entry';

function normalise(name: string): string {
  return name
    .toLowerCase()
    .replace(/[-_]/g, '')
    .replace(/(ies)$/, 'y')
    .replace(/s$/, '');
}

function findModel(connection: Connection, segment: string): Model<unknown> | null {
  const wanted = normalise(segment);
  for (const model of Object.values(connection.models) as Model<unknown>[]) {
    if (normalise(model.modelName) === wanted || normalise(model.collection.collectionName) === wanted) return model;
  }
  return null;
}

/** The model a path refers to, and whether it is an array of refs. */
function refOf(schema: Schema, path: string): { ref: string; many: boolean } | null {
  const type = schema.path(path) as unknown as
    | { options?: { ref?: unknown; type?: unknown }; caster?: { options?: { ref?: unknown } }; embeddedSchemaType?: { options?: { ref?: unknown } } }
    | undefined;
  if (type) {
    const inner = type.embeddedSchemaType ?? type.caster;
    const arrayRef = inner?.options?.ref;
    if (typeof arrayRef === 'string' && Array.isArray(type.options?.type)) return { ref: arrayRef, many: true };
    if (typeof type.options?.ref === 'string') return { ref: type.options.ref, many: false };
  }
  const virtual = (schema as unknown as { virtuals: Record<string, { options?: { ref?: unknown; justOne?: boolean } }> }).virtuals[path];
  if (typeof virtual?.options?.ref === 'string') return { ref: virtual.options.ref, many: !virtual.options.justOne };
  return null;
}

function refsTo(schema: Schema, modelName: string): Array<{ many: boolean }> {
  const found: Array<{ many: boolean }> = [];
  schema.eachPath((path) => {
    const ref = refOf(schema, path);
    if (ref && ref.ref === modelName) found.push({ many: ref.many });
  });
  return found;
}

/** @internal The store's own; stripped from the published types, which must not name mongoose's. */
export function inferAssociation(connection: Connection, ownerSegment: string, childSegment: string): AssociationType | null {
  try {
    const owner = findModel(connection, ownerSegment);
    if (!owner) return null;
    const ref = refOf(owner.schema, childSegment);
    if (!ref || !ref.many) return null;
    const child = connection.models[ref.ref] as Model<unknown> | undefined;
    if (!child) return '_MANY';
    const back = refsTo(child.schema, owner.modelName);
    if (back.some((r) => r.many)) return 'MANY_MANY';
    if (back.some((r) => !r.many)) return 'ONE_MANY';
    return '_MANY';
  } catch {
    return null; // inference is a convenience; a strange schema must not cost the entry
  }
}
