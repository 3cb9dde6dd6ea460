/**
 * The request context with no framework: any request object, read through its adapter's reader,
 * lazily (auth may be set after the context is made), with the app's annotation winning.
 */
import { annotate } from '../../src/capture/annotate';
import type { EventSink } from '../../src/events/context';
import { existingContext, newRequestContext, type RequestReader } from '../../src/events/request-context';
import { parseOptions } from '../../src/options';

interface PlainRequest {
  who: string | null;
  headers: Record<string, string>;
}

const reader: RequestReader<PlainRequest> = {
  user: (req) => req.who,
  ip: () => '::ffff:10.0.0.1',
  tenant: () => {
    throw new Error('no tenant store');
  },
  header: (req, name) => req.headers[name],
};

function sink(failures: unknown[]): EventSink {
  const config = parseOptions({ enabled: true, getTenant: () => 't' });
  return {
    config,
    limits: { maxDepth: 8, maxBytes: 1024, isSecret: () => false },
    newId: () => 'id',
    push: () => undefined,
    fail: (e) => failures.push(e),
    contextOf: () => {
      throw new Error('unused');
    },
  };
}

describe('request context on any framework', () => {
  it('reads the user when asked, the annotation first, and headers through the reader', () => {
    const failures: unknown[] = [];
    const req: PlainRequest = { who: null, headers: { 'user-agent': 'agent/1', traceparent: '00-4bf92f3577b34da6a3ce929d0e0e4736-00f067aa0ba902b7-01' } };
    const context = newRequestContext(req, sink(failures), 'req-9', reader);
    expect(existingContext(req)).toBe(context);
    req.who = 'alice'; // auth set after the context was made
    expect(context.user).toBe('alice');
    annotate(req, { user: 'service:sync' });
    expect(context).toMatchObject({
      user: 'service:sync',
      requestId: 'req-9',
      ipAddress: '10.0.0.1',
      userAgent: 'agent/1',
      traceId: '4bf92f3577b34da6a3ce929d0e0e4736',
    });
  });

  it('stores no tenant when the reader fails, and reports the failure', () => {
    const failures: unknown[] = [];
    const context = newRequestContext({ who: 'a', headers: {} }, sink(failures), 'r', reader);
    expect(context.tenant).toBeNull();
    expect(failures).toHaveLength(1);
  });
});
