/**
 * The requests the contract suite makes, the same on every framework, and how it reads what came
 * of them: entries by request id from the store, route answers over HTTP, both normalised (ids,
 * dates, durations) so that the expected values are literal objects, the same for every framework.
 */
import request from 'supertest';
import type { AuditEntry } from 'express-audit-log';
import { ADMIN, USER } from '../support/app';
import type { ContractApp } from './driver';

const OBJECT_ID = /\b[0-9a-f]{24}\b/g;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;
const ISO_DATE = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}(?:\.\d+)?Z$/;
export const TRACE = '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01';

/** Ids become `<id>`, generated request ids `<uuid>`, dates `<date>`, durations `<ms>`: what differs from run to run, and nothing else. */
export function normalise(value: unknown, key?: string): unknown {
  if (key === 'durationMs' && typeof value === 'number') return '<ms>';
  if (value instanceof Date) return '<date>';
  if (typeof value === 'string') return ISO_DATE.test(value) ? '<date>' : UUID.test(value) ? '<uuid>' : value.replace(OBJECT_ID, '<id>');
  if (Array.isArray(value)) return value.map((item) => normalise(item));
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const [name, item] of Object.entries(value)) out[name] = normalise(item, name);
    return out;
  }
  return value;
}

export async function entriesOf(app: ContractApp, requestId: string): Promise<Partial<AuditEntry>[]> {
  await app.audit.flush();
  const store = app.audit.store;
  if (!store) throw new Error('the audit log is disabled');
  const { docs } = await store.find({ filter: { requestId }, sort: [['date', 1]], skip: 0, limit: 10, select: null });
  return docs;
}

/** The first scenario: every kind of request the recorder describes, each with its own request id. */
export async function recordScenario(app: ContractApp): Promise<{ userId: string; roleId: string }> {
  const agent = request(app.url);
  const auth = { Authorization: `Bearer ${ADMIN}` };
  const created = await agent
    .post('/api/v1/users')
    .set(auth)
    .set('X-Request-Id', 'create-1')
    .set('traceparent', TRACE)
    .set('User-Agent', 'contract-suite')
    .send({ name: 'Ann', password: 'hunter2' })
    .expect(201);
  const userId = created.body._id as string;
  await agent.get(`/api/v1/users/${userId}`).set(auth).set('X-Request-Id', 'read-1').expect(200);
  await agent.put(`/api/v1/users/${userId}`).set(auth).set('X-Request-Id', 'update-1').send({ name: 'Bob' }).expect(200);
  await agent.put('/api/v1/users/0123456789abcdef01234567').set(auth).set('X-Request-Id', 'update-404').send({ name: 'Nobody' }).expect(404);
  const role = await agent.post(`/api/v1/users/${userId}/roles`).set(auth).set('X-Request-Id', 'add-1').send({ name: 'editor' }).expect(201);
  const roleId = role.body._id as string;
  await agent.delete(`/api/v1/users/${userId}/roles/${roleId}`).set(auth).set('X-Request-Id', 'remove-1').expect(204);
  await agent.delete(`/api/v1/users/${userId}`).set(auth).set('X-Request-Id', 'delete-1').expect(204);
  await agent.post('/auth/login').set('X-Request-Id', 'login-1').send({ username: 'ann', password: 'hunter2' }).expect(200);
  await agent.post('/fail').set(auth).set('X-Request-Id', 'fail-1').send({}).expect(500);
  return { userId, roleId };
}

export const SCENARIO_IDS = ['create-1', 'read-1', 'update-1', 'update-404', 'add-1', 'remove-1', 'delete-1', 'login-1', 'fail-1'] as const;

export interface Answer {
  status: number;
  type: string | null;
  body: unknown;
}

/** A route's answer, normalised: status, media type, body (JSON parsed, NDJSON one value a line, text as it is). */
export async function answer(test: request.Test): Promise<Answer> {
  const res = await test;
  const type = typeof res.headers['content-type'] === 'string' ? (res.headers['content-type'].split(';')[0]?.trim() ?? null) : null;
  const body =
    type === 'application/json'
      ? res.body
      : type === 'application/x-ndjson'
        ? res.text
            .split('\n')
            .filter((line) => line !== '')
            .map((line) => JSON.parse(line))
        : res.text;
  return { status: res.status, type, body: normalise(body) };
}

export { ADMIN, USER };
