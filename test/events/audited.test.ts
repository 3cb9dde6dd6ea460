/** audited(fn) and @Audited(): every call recorded, the function's behaviour unchanged. */
import request from 'supertest';
import { auditLog, audited, Audited, memoryStore, AuditLogConfigError, type AuditLogMiddleware } from 'express-audit-log';
import { ADMIN, token } from '../support/app';
import { until } from '../support/wait';
import { appWith, stored, thrownBy, warningsDuring } from './helpers';

class PaymentDeclined extends Error {
  readonly code = 'DECLINED';
  constructor(message: string) {
    super(message);
    this.name = 'PaymentDeclined';
  }
}

describe('audit.audited(fn)', () => {
  let audit: AuditLogMiddleware;
  beforeEach(() => {
    audit = auditLog({ store: memoryStore(), maxFieldBytes: 2048 });
  });
  afterEach(() => audit.close());

  test('a sync call: arguments, return value, Success, duration; the value is returned unchanged', async () => {
    const add = audit.audited((a: number, b: number) => a + b, { action: 'math.add', collectionName: 'numbers' });
    expect(add(2, 3)).toBe(5);
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({
      action: 'math.add',
      collectionName: 'numbers',
      payload: { args: [2, 3] },
      result: { status: 'Success', value: 5 },
      isError: false,
      responseMessage: null,
      method: null,
      endpoint: null,
      statusCode: null,
      user: null,
    });
    expect(entry!.durationMs).toBeGreaterThanOrEqual(0);
  });

  test('an async call is recorded when it settles, with the resolved value', async () => {
    let release!: () => void;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const load = audit.audited(
      async (id: string) => {
        await gate;
        return { id, title: 'Dune' };
      },
      { action: 'book.load', documents: ([id]) => [id] },
    );
    const pending = load('b1');
    expect(audit.stats().recorded).toBe(0);
    release();
    await expect(pending).resolves.toEqual({ id: 'b1', title: 'Dune' });
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ action: 'book.load', documents: ['b1'], result: { status: 'Success', value: { id: 'b1', title: 'Dune' } } });
  });

  test('a sync throw: Failure with name, message, code and stack; the same error object is rethrown', async () => {
    const error = new PaymentDeclined('card declined');
    const charge = audit.audited(
      (_amount: number) => {
        throw error;
      },
      { action: 'payment.charge' },
    );
    const thrown = thrownBy(() => charge(10));
    expect(thrown).toBe(error);
    const [entry] = await stored(audit, 1);
    expect(entry).toMatchObject({ isError: true, responseMessage: 'card declined', payload: { args: [10] } });
    const result = entry!.result as { status: string; error: Record<string, unknown> };
    expect(result.status).toBe('Failure');
    expect(result.error).toMatchObject({ name: 'PaymentDeclined', message: 'card declined', code: 'DECLINED' });
    expect(result.error.stack).toMatch(/PaymentDeclined: card declined\n\s+at /);
  });

  test('an async rejection is rethrown unchanged; a non-Error rejection is described', async () => {
    const error = new TypeError('bad input');
    const fails = audit.audited(
      async () => {
        throw error;
      },
      { action: 'a.fail' },
    );
    const rejectsString = audit.audited(() => Promise.reject('plain string'), { action: 'a.string' });
    await expect(fails()).rejects.toBe(error);
    await expect(rejectsString()).rejects.toBe('plain string');
    const entries = await stored(audit, 2);
    expect(entries.map((e) => e.result)).toEqual([
      { status: 'Failure', error: expect.objectContaining({ name: 'TypeError', message: 'bad input' }) },
      { status: 'Failure', error: { name: 'string', message: 'plain string' } },
    ]);
  });

  test('this, name and length are kept; a thenable that is not a promise is returned untouched', async () => {
    const counter = {
      count: 1,
      bump: audit.audited(function bump(this: { count: number }, by: number) {
        this.count += by;
        return this.count;
      }, {}),
    };
    expect(counter.bump(2)).toBe(3);
    expect(counter.bump.name).toBe('bump');
    expect(counter.bump.length).toBe(1);
    let thenCalls = 0;
    const lazy = {
      then: () => {
        thenCalls++;
      },
    };
    const query = audit.audited(() => lazy, { action: 'lazy.query' });
    expect(query()).toBe(lazy);
    expect(thenCalls).toBe(0);
    const entries = await stored(audit, 2);
    expect(entries[0]).toMatchObject({ action: 'bump', result: { status: 'Success', value: 3 } });
  });

  test('arguments are a snapshot at the call, redacted and capped; captureArgs/captureResult turn them off', async () => {
    const mutate = audit.audited(
      (user: { name: string; password: string }) => {
        user.name = 'changed';
        return user;
      },
      { action: 'u.mutate' },
    );
    mutate({ name: 'ann', password: 'hunter2' });
    const big = audit.audited((_blob: string) => 'ok', { action: 'u.big' });
    big('x'.repeat(10_000));
    const quiet = audit.audited((secret: string) => secret.toUpperCase(), { action: 'u.quiet', captureArgs: false, captureResult: false });
    quiet('s3cret');
    const entries = await stored(audit, 3);
    expect(entries[0]!.payload).toEqual({ args: [{ name: 'ann', password: '[REDACTED]' }] });
    expect(entries[0]!.result).toEqual({ status: 'Success', value: { name: 'changed', password: '[REDACTED]' } });
    expect(entries[1]!.payload).toMatch(/^\[Truncated/);
    expect(entries[1]!.truncated).toEqual(['payload']);
    expect(entries[2]).toMatchObject({ payload: null, result: { status: 'Success' } });
  });

  test('a throwing documents() picker costs the ids, never the call', async () => {
    const errors: Error[] = [];
    audit.on('error', (error) => errors.push(error));
    const fn = audit.audited(() => 1, {
      action: 'x',
      documents: () => {
        throw new Error('picker');
      },
    });
    expect(fn()).toBe(1);
    await until(() => errors.length === 1, 'the picker failure reported');
    expect(errors[0]!.message).toMatch(/picker/);
  });

  test('bad options throw at wrap time, with a code', () => {
    const cases: Array<[() => unknown, string]> = [
      [() => audit.audited('nope' as never), 'fn'],
      [() => audit.audited(() => 1), 'action'],
      [
        () =>
          audit.audited(
            function named() {
              return 1;
            },
            { acton: 'x' } as never,
          ),
        'acton',
      ],
      [
        () =>
          audit.audited(
            function named() {
              return 1;
            },
            { documents: ['a'] } as never,
          ),
        'documents',
      ],
      [
        () =>
          audit.audited(
            function named() {
              return 1;
            },
            { audit } as never,
          ),
        'audit',
      ],
      [
        () =>
          audited(
            function named() {
              return 1;
            },
            { audit: {} as never },
          ),
        'audit',
      ],
    ];
    for (const [call, option] of cases) {
      const thrown = thrownBy(call);
      expect(thrown).toBeInstanceOf(AuditLogConfigError);
      expect(thrown).toMatchObject({ code: 'EAUDIT_AUDITED', option });
    }
  });
});

describe('which instance records a call', () => {
  test('audited(fn, { audit }) and audit.audited() each use their own instance', async () => {
    const one = auditLog({ store: memoryStore() });
    const two = auditLog({ store: memoryStore() });
    audited(() => 1, { audit: one, action: 'to.one' })();
    two.audited(() => 2, { action: 'to.two' })();
    expect((await stored(one, 1)).map((e) => e.action)).toEqual(['to.one']);
    expect((await stored(two, 1)).map((e) => e.action)).toEqual(['to.two']);
    await Promise.all([one.close(), two.close()]);
  });

  test('without an instance, the call runs and one EAUDIT_NO_INSTANCE warning is emitted per function', async () => {
    const lonely = audited((x: number) => x * 2, { action: 'lonely' });
    const other = audited((x: number) => x * 3, { action: 'other' });
    const warnings = await warningsDuring(() => {
      expect(lonely(1)).toBe(2);
      expect(lonely(2)).toBe(4);
      expect(other(1)).toBe(3);
    });
    expect(warnings.map((w) => w.code)).toEqual(['EAUDIT_NO_INSTANCE', 'EAUDIT_NO_INSTANCE']);
    expect(warnings[0]!.message).toMatch(/lonely ran unaudited/);
  });

  test('a disabled instance runs the function, records nothing, warns nothing', async () => {
    const off = auditLog({ enabled: false });
    const fn = audited(() => 'ran', { audit: off, action: 'off' });
    const warnings = await warningsDuring(() => {
      expect(fn()).toBe('ran');
      expect(off.runWithContext({ user: 'u' }, () => audited(() => 'ran too', { action: 'ctx' })())).toBe('ran too');
    });
    expect(warnings).toEqual([]);
  });

  test('runWithContext: calls inside inherit the instance, user and requestId, across awaits', async () => {
    const audit = auditLog({ store: memoryStore() });
    const step = audited(
      async (n: number) => {
        await new Promise((r) => setImmediate(r));
        return n;
      },
      { action: 'job.step' },
    );
    const requestId = await audit.runWithContext({ user: 'job:nightly', traceId: 'trace-1' }, async () => {
      await step(1);
      await step(2);
      return (await stored(audit, 2))[0]!.requestId;
    });
    const entries = await stored(audit, 2);
    expect(requestId).toMatch(/^[0-9a-f-]{36}$/);
    expect(entries.map((e) => [e.action, e.user, e.requestId, e.traceId])).toEqual([
      ['job.step', 'job:nightly', requestId, 'trace-1'],
      ['job.step', 'job:nightly', requestId, 'trace-1'],
    ]);
    expect(() => audit.runWithContext({ usr: 'x' } as never, () => 1)).toThrow(/unknown field 'usr'/);
    await audit.close();
  });

  test('strictActions applies to audited functions: at wrap time when the instance is known, else at the call, before the function runs', async () => {
    const audit = auditLog({ store: memoryStore(), actions: { 'book.publish': {} }, strictActions: true });
    expect(() => audit.audited(() => 1, { action: 'book.pubish' })).toThrow(expect.objectContaining({ code: 'EAUDIT_UNKNOWN_ACTION' }));
    let ran = false;
    const loose = audited(
      () => {
        ran = true;
      },
      { action: 'book.pubish' },
    );
    expect(() => audit.runWithContext({}, () => loose())).toThrow(expect.objectContaining({ code: 'EAUDIT_UNKNOWN_ACTION' }));
    expect(ran).toBe(false);
    await audit.close();
  });
});

describe('@Audited() on class methods (TC39 decorators)', () => {
  test('records each call with the method name as the default action, keeps this, rethrows', async () => {
    const audit = auditLog({ store: memoryStore() });
    class InvoiceService {
      private readonly approved = new Set<string>();
      @Audited({ audit, collectionName: 'invoices', documents: ([id]) => [id] })
      approve(id: string): { id: string; approved: boolean } {
        this.approved.add(id);
        return { id, approved: this.approved.has(id) };
      }
      @Audited({ audit, action: 'invoice.void' })
      async void(id: string): Promise<void> {
        throw new Error(`cannot void ${id}`);
      }
    }
    const service = new InvoiceService();
    expect(service.approve('inv-1')).toEqual({ id: 'inv-1', approved: true });
    await expect(service.void('inv-2')).rejects.toThrow('cannot void inv-2');
    const entries = await stored(audit, 2);
    expect(entries[0]).toMatchObject({
      action: 'approve',
      collectionName: 'invoices',
      documents: ['inv-1'],
      payload: { args: ['inv-1'] },
      result: { status: 'Success', value: { id: 'inv-1', approved: true } },
    });
    expect(entries[1]).toMatchObject({ action: 'invoice.void', isError: true, responseMessage: 'cannot void inv-2' });
    await audit.close();
  });

  test('without { audit }, the instance of the current request is used', async () => {
    const audit = auditLog({ store: memoryStore(), echoRequestId: true, scope: ['admin'] });
    class Books {
      @Audited({ action: 'book.publish', collectionName: 'books', documents: ([id]) => [id] })
      async publish(id: string) {
        return { id, published: true };
      }
    }
    const books = new Books();
    const app = appWith(audit, (app) => {
      app.post('/publications', async (req, res) => {
        res.status(201).json(await books.publish(req.body.bookId));
      });
    });
    const res = await request(app)
      .post('/publications')
      .set('Authorization', `Bearer ${token({ sub: 'editor-1' })}`)
      .send({ bookId: 'b7' })
      .expect(201);
    const requestId = res.headers['x-request-id'];
    await stored(audit, 2);
    const listed = await request(app).get('/auditLog').query({ requestId, $sort: 'action' }).set('Authorization', `Bearer ${ADMIN}`);
    expect(listed.body.docs.map((e: Record<string, unknown>) => [e.action, e.user, e.requestId, e.method])).toEqual([
      ['Create', 'editor-1', requestId, 'POST'],
      ['book.publish', 'editor-1', requestId, null],
    ]);
    await audit.close();
  });

  test('on a getter it fails at class definition with a coded error', () => {
    expect(() => {
      class Bad {
        // @ts-expect-error: Audited is for methods
        @Audited({ action: 'x' })
        get value() {
          return 1;
        }
      }
      return Bad;
    }).toThrow(expect.objectContaining({ code: 'EAUDIT_AUDITED', option: 'decorator' }));
  });
});
