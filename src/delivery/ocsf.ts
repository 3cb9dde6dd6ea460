/**
 * An entry as an OCSF event of the API Activity class (class_uid 6003, category Application
 * Activity, 6), so Splunk, Elastic, Datadog or Amazon Security Lake ingest it with their OCSF
 * mappings and no glue. Field names follow the OCSF schema (events/application/api_activity.json
 * and the objects it uses); what OCSF has no attribute for goes under `unmapped`, as OCSF asks.
 */
import type { AuditEntry, JsonValue } from '../entry';

export const OCSF_VERSION = '1.1.0';
const CLASS_UID = 6003;
const CATEGORY_UID = 6;

/** API Activity's activity_id values. */
const ACTIVITIES: Record<string, [number, string]> = {
  Create: [1, 'Create'],
  Read: [2, 'Read'],
  Update: [3, 'Update'],
  Delete: [4, 'Delete'],
};

/** An action the table does not name (Add, Remove, custom ones) takes its activity from the HTTP method. */
const BY_METHOD: Record<string, [number, string]> = {
  POST: ACTIVITIES.Create!,
  GET: ACTIVITIES.Read!,
  HEAD: ACTIVITIES.Read!,
  PUT: ACTIVITIES.Update!,
  PATCH: ACTIVITIES.Update!,
  DELETE: ACTIVITIES.Delete!,
};

export type OcsfEvent = Record<string, JsonValue | undefined>;

function compact(object: Record<string, JsonValue | undefined>): Record<string, JsonValue> {
  return Object.fromEntries(Object.entries(object).filter(([, value]) => value !== undefined && value !== null)) as Record<string, JsonValue>;
}

function activityOf(entry: AuditEntry): [number, string] {
  const action = entry.action ?? '';
  // Add and Remove change an association: an update of the owner, whatever the method.
  if (action === 'Add' || action === 'Remove') return ACTIVITIES.Update!;
  return ACTIVITIES[action] ?? BY_METHOD[entry.method ?? ''] ?? [99, 'Other'];
}

export function toOcsf(entry: AuditEntry, productVersion: string): OcsfEvent {
  const [activityId, activityName] = activityOf(entry);
  const failed = entry.isError;
  const date = entry.date instanceof Date ? entry.date : new Date(entry.date);
  return compact({
    class_uid: CLASS_UID,
    class_name: 'API Activity',
    category_uid: CATEGORY_UID,
    category_name: 'Application Activity',
    activity_id: activityId,
    activity_name: activityId === 99 ? (entry.action ?? activityName) : activityName,
    type_uid: CLASS_UID * 100 + activityId,
    severity_id: 1, // Informational: the SIEM's own rules decide what deserves more.
    status_id: failed ? 2 : 1,
    status: failed ? 'Failure' : 'Success',
    time: date.getTime(),
    duration: entry.durationMs ?? undefined,
    message: entry.message ?? entry.responseMessage ?? undefined,
    metadata: compact({
      version: OCSF_VERSION,
      uid: entry._id,
      correlation_uid: entry.traceId ?? undefined,
      product: { name: 'express-audit-log', vendor_name: 'express-audit-log', version: productVersion },
    }),
    api: compact({
      operation: entry.action ?? entry.method ?? 'unknown',
      service: entry.collectionName ? { name: entry.collectionName } : undefined,
      request: entry.requestId ? { uid: entry.requestId } : undefined,
      response:
        entry.statusCode === null ? undefined : compact({ code: entry.statusCode, error_message: failed ? (entry.responseMessage ?? undefined) : undefined }),
    }),
    actor: entry.user === null ? {} : { user: { uid: entry.user } },
    src_endpoint: entry.ipAddress === null ? {} : { ip: entry.ipAddress },
    http_request:
      entry.method === null
        ? undefined
        : compact({
            http_method: entry.method,
            url: entry.endpoint === null ? undefined : { path: entry.endpoint },
            user_agent: entry.userAgent ?? undefined,
            uid: entry.requestId ?? undefined,
          }),
    http_response: entry.statusCode === null ? undefined : compact({ code: entry.statusCode, message: entry.responseMessage ?? undefined }),
    resources: entry.documents?.map((uid) => compact({ uid, type: entry.collectionName ?? undefined })),
    unmapped: unmapped(entry),
  });
}

/** What OCSF has no attribute for: kept, so nothing the audit log recorded is lost on the way. */
function unmapped(entry: AuditEntry): JsonValue | undefined {
  const rest = compact({
    childCollectionName: entry.childCollectionName,
    associationType: entry.associationType,
    payload: entry.payload,
    params: entry.params,
    result: entry.result,
    notes: entry.notes,
    aborted: entry.aborted,
    postedBy: entry.postedBy,
    truncated: entry.truncated,
    changes: (entry.changes ?? undefined) as JsonValue | undefined,
    chain: entry.chain ?? undefined,
    seq: entry.seq ?? undefined,
    prevHash: entry.prevHash ?? undefined,
    hash: entry.hash ?? undefined,
  });
  return Object.keys(rest).length === 0 ? undefined : rest;
}
