/**
 * The framework-free entry builder: plain facts about a finished request in, the entry out. What
 * a Fastify or Hapi adapter will call; the Express recorder already does (test/express/recorder.test.ts).
 */
import { buildEntryFromFacts, type BuildContext, type FinishedRequest } from '../../src/capture/build-entry';
import { secretKeyMatcher } from '../../src/capture/redact';
import { parseOptions } from '../../src/options';

function context(options: Record<string, unknown> = {}): BuildContext {
  const config = parseOptions({ ...options, enabled: true });
  let id = 0;
  return {
    config,
    limits: { maxDepth: config.maxDepth, maxBytes: config.maxFieldBytes, isSecret: secretKeyMatcher(config.redactKeys) },
    newId: () => `id-${++id}`,
    inferAssociation: null,
  };
}

function finished(overrides: Partial<FinishedRequest> = {}): FinishedRequest {
  return {
    method: 'PUT',
    url: '/api/users/42/groups/7',
    path: '/users/42/groups/7',
    route: { baseUrl: '/api', pattern: '/users/:userId/groups/:groupId', params: { userId: '42', groupId: '7' } },
    params: { userId: '42', groupId: '7' },
    headers: { 'content-length': '13', 'user-agent': 'test-agent', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' },
    ip: '10.1.2.3',
    body: { role: 'admin' },
    statusCode: 200,
    responseStatus: 200,
    statusMessage: 'OK',
    responseBody: '{"_id":"7","password":"hunter2"}',
    contentType: 'application/json; charset=utf-8',
    aborted: false,
    start: 0,
    requestId: 'req-1',
    annotation: undefined,
    user: () => 'alice',
    tenant: () => null,
    context: null,
    ...overrides,
  };
}

describe('buildEntryFromFacts', () => {
  it('describes an association route from its matched pattern, redacts the response and keeps the identity', () => {
    const built = buildEntryFromFacts(context(), finished());
    expect(built?.entry).toMatchObject({
      _id: 'id-1',
      method: 'PUT',
      action: 'Add',
      endpoint: '/api/users/42/groups/7',
      collectionName: 'users',
      childCollectionName: 'groups',
      documents: ['42', '7'],
      payload: { role: 'admin' },
      result: { _id: '7', password: '[REDACTED]' },
      statusCode: 200,
      isError: false,
      user: 'alice',
      ipAddress: '10.1.2.3',
      requestId: 'req-1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
      userAgent: 'test-agent',
    });
  });

  it('takes the message of an error body, stores no result, and marks an abort', () => {
    const failed = buildEntryFromFacts(context(), finished({ statusCode: 409, responseStatus: 409, responseBody: '{"message":"taken"}' }))!.entry;
    expect(failed).toMatchObject({ isError: true, result: null, responseMessage: 'taken' });
    const aborted = buildEntryFromFacts(context(), finished({ aborted: true, statusCode: null, responseBody: undefined }))!.entry;
    expect(aborted).toMatchObject({ aborted: true, isError: true, statusCode: null });
  });

  it('skips on the annotation, and asks for the user only when the annotation does not name one', () => {
    expect(buildEntryFromFacts(context(), finished({ annotation: { skip: true } }))).toBeNull();
    const user = jest.fn(() => 'alice');
    const entry = buildEntryFromFacts(context(), finished({ annotation: { user: 'bob' }, user }))!.entry;
    expect(entry.user).toBe('bob');
    expect(user).not.toHaveBeenCalled();
  });
});
