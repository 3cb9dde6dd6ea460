/**
 * Says what a request did, from its method, its path and its bodies: the action, the
 * collection and association, and the documents touched. Framework-free: the Express adapter
 * hands it plain values. DESIGN.md "Describing a request" is the rule book; apps override any
 * of it with `auditLog.annotate(req, ...)`.
 */
import type { AssociationType } from '../entry';
import { payloadIds, resultIds } from './documents';

export interface RequestFacts {
  method: string;
  /** The path below the middleware's mount point, without the query string. */
  path: string;
  payload: unknown;
  /** The response body as parsed JSON (null when there was none or it was not JSON). */
  result: unknown;
  isError: boolean;
  associations: ReadonlyMap<string, AssociationType>;
  /** Fallback lookup for pairs the `associations` option does not name (the MongoDB store's model inference). */
  inferAssociation?: ((owner: string, child: string) => AssociationType | null) | null;
}

export interface Description {
  action: string;
  collectionName: string | null;
  childCollectionName: string | null;
  associationType: AssociationType | null;
  documents: string[] | null;
}

const BASE_ACTIONS: Record<string, string> = { POST: 'Create', PUT: 'Update', PATCH: 'Update', DELETE: 'Delete' };

function segments(path: string): string[] {
  const parts: string[] = [];
  for (const raw of path.split('/')) {
    if (raw === '') continue;
    if (!raw.includes('%')) {
      parts.push(raw);
      continue;
    }
    try {
      parts.push(decodeURIComponent(raw));
    } catch {
      parts.push(raw); // a malformed escape is still the segment the client sent
    }
  }
  return parts;
}

function nonEmpty(ids: string[]): string[] | null {
  return ids.length > 0 ? ids : null;
}

export function describeRequest(facts: RequestFacts): Description {
  const [owner, ownerId, child, childId] = segments(facts.path);
  const method = facts.method.toUpperCase();

  if (owner !== undefined && ownerId !== undefined && child !== undefined && method !== 'PATCH' && BASE_ACTIONS[method]) {
    const associationType =
      facts.associations.get(`${owner}.${child}`) ?? facts.inferAssociation?.(owner, child) ?? null;
    const action = method === 'DELETE' ? 'Remove' : 'Add';
    const children = childId !== undefined ? [childId] : payloadIds(facts.payload, ['childId', '_id', 'id']);
    return { action, collectionName: owner, childCollectionName: child, associationType, documents: [ownerId, ...children] };
  }

  const action = BASE_ACTIONS[method] ?? (method === 'GET' || method === 'HEAD' ? 'Read' : method);
  const collectionName = owner ?? null;
  let documents: string[] | null;
  if (ownerId !== undefined) {
    documents = [ownerId];
  } else if (method === 'POST') {
    // Created ids exist only once the create succeeded: rest-hapi leaves them null on error.
    documents = facts.isError ? null : nonEmpty(resultIds(facts.result));
  } else {
    documents = nonEmpty(payloadIds(facts.payload)) ?? (facts.isError ? null : nonEmpty(resultIds(facts.result)));
  }
  return { action, collectionName, childCollectionName: null, associationType: null, documents };
}
