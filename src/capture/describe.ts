/**
 * Says what a request did, from its method, the route that matched and its bodies: the
 * action, the collection and association, and the documents touched. Framework-free: an
 * adapter hands it plain values. The README's "Describing a request" is the rule book; apps
 * override any of it with `auditLog.annotate(req, ...)`.
 *
 * The route pattern decides which segments are ids (see route-pattern.ts): only parameters
 * are documents, a route without parameters names no document of its own, and the collection
 * is taken from the innermost router, whatever prefix it is mounted under. Without a pattern
 * (no route matched: a middleware answered) the path below the audit middleware is read by
 * position, rest-hapi style: `/:collection/:id/:child/:childId`.
 */
import type { AssociationType } from '../entry';
import { payloadIds, resultIds } from './documents';
import { resourceSegments, unknownSegments, type MatchedRoute, type Segment } from './route-pattern';

export interface RequestFacts {
  method: string;
  /** The path below the middleware's mount point, without the query string: read only when no route matched. */
  path: string;
  /** The route that handled the request, captured while it ran; null when none did. */
  route?: MatchedRoute | null;
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

function nonEmpty(ids: string[]): string[] | null {
  return ids.length > 0 ? ids : null;
}

/** An id position holds a parameter, or anything when the pattern is unknown. */
function isId(segment: Segment | undefined): segment is Segment {
  return segment !== undefined && segment.literal !== true;
}

export function describeRequest(facts: RequestFacts): Description {
  const segments = (facts.route ? resourceSegments(facts.route) : null) ?? unknownSegments(facts.path);
  const [owner, ownerId, child, childId] = segments;
  const method = facts.method.toUpperCase();

  const isAssociation =
    owner?.value != null &&
    isId(ownerId) &&
    ownerId.value !== null &&
    child?.value != null &&
    (segments.length === 3 || (segments.length === 4 && isId(childId))) &&
    method !== 'PATCH' &&
    BASE_ACTIONS[method] !== undefined;
  if (isAssociation) {
    const ownerName = owner!.value!;
    const childName = child!.value!;
    const associationType = facts.associations.get(`${ownerName}.${childName}`) ?? facts.inferAssociation?.(ownerName, childName) ?? null;
    const action = method === 'DELETE' ? 'Remove' : 'Add';
    const children = childId?.value != null ? [childId.value] : payloadIds(facts.payload, ['childId', '_id', 'id']);
    return { action, collectionName: ownerName, childCollectionName: childName, associationType, documents: [ownerId!.value!, ...children] };
  }

  const action = BASE_ACTIONS[method] ?? (method === 'GET' || method === 'HEAD' ? 'Read' : method);
  const collectionName = owner?.value ?? null;
  // The route's first parameter after the collection (`/users/by-email/:email` too); by position when the pattern is unknown.
  const idSegment = ownerId?.literal === null ? ownerId : segments.slice(1).find((segment) => segment.literal === false);
  let documents: string[] | null;
  if (idSegment?.value != null) {
    documents = [idSegment.value];
  } else if (method === 'POST') {
    // Created ids exist only once the create succeeded: rest-hapi leaves them null on error.
    documents = facts.isError ? null : nonEmpty(resultIds(facts.result));
  } else {
    documents = nonEmpty(payloadIds(facts.payload)) ?? (facts.isError ? null : nonEmpty(resultIds(facts.result)));
  }
  return { action, collectionName, childCollectionName: null, associationType: null, documents };
}
