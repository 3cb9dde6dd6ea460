/**
 * Audited functions: `audited(fn, options)` and the `@Audited(options)` method decorator
 * (TC39 standard decorators) record every call: the arguments, the return value or the
 * error, the duration and who called, with the identity of the request or job the call ran
 * in. The wrapper never changes what the function does: same `this`, same return value,
 * the same error rethrown. Sync and async functions alike; only real promises are awaited,
 * never other thenables (a mongoose Query would run twice).
 */
import { performance } from 'perf_hooks';
import { types } from 'util';
import { sanitize, type Sanitized } from '../capture/sanitize';
import { AuditLogConfigError, show } from '../errors';
import { checkAction, MAX_ACTION_LENGTH } from './actions';
import { currentContext, markContextConsumed, SINK, type AuditHandle, type EventSink, type SinkHolder } from './context';
import { emitEntry, ids } from './record';

export interface AuditedOptions<Args extends unknown[] = unknown[], Result = unknown> {
  /** Stored as `action`. Defaults to the function's (or method's) name. */
  action?: string;
  collectionName?: string | null;
  /** Picks the ids of the documents concerned, from the arguments and the (awaited) result; undefined on failure. */
  documents?: (args: Args, result: Awaited<Result> | undefined) => ReadonlyArray<unknown> | null | undefined;
  notes?: string | null;
  /** Store the arguments (redacted, capped) as `payload.args`. Defaults to true. */
  captureArgs?: boolean;
  /** Store the return value (redacted, capped) as `result.value`. Defaults to true. */
  captureResult?: boolean;
}

export interface AuditedWith<Args extends unknown[] = unknown[], Result = unknown> extends AuditedOptions<Args, Result> {
  /** The instance to record into. Defaults to the one of the request (or `runWithContext`) the call runs in. */
  audit?: AuditHandle;
}

// eslint-disable-next-line @typescript-eslint/no-explicit-any
export type AnyFunction = (this: any, ...args: any[]) => any;

const OPTION_KEYS = ['audit', 'action', 'collectionName', 'documents', 'notes', 'captureArgs', 'captureResult'];
const MAX_STACK = 4096;
const MAX_ERROR_MESSAGE = 1000;
/** `undefined`: no instance known at wrap time, look in the context at each call. */
type Fixed = EventSink | null | undefined;

function optionError(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_AUDITED', option, message);
}

function sinkOfHandle(audit: unknown): EventSink | null {
  // A function on Express (the middleware), an object on other adapters (Fastify's app.auditLog).
  if (audit === null || (typeof audit !== 'function' && typeof audit !== 'object') || !(SINK in audit)) {
    optionError('audit', `audit must be the handle auditLog() returned (or app.auditLog on Fastify); got ${show(audit)}.`);
  }
  return (audit as SinkHolder)[SINK] ?? null;
}

function checkOptions(options: object): void {
  if (options === null || typeof options !== 'object')
    optionError('options', `audited options must be an object like { action: 'invoice.approve' }; got ${show(options)}.`);
  for (const key of Object.keys(options)) {
    if (!OPTION_KEYS.includes(key)) optionError(key, `audited() got unknown option '${key}'; accepted: ${OPTION_KEYS.join(', ')}.`);
  }
  const { documents, captureArgs, captureResult, collectionName, notes } = options as AuditedWith;
  if (documents !== undefined && typeof documents !== 'function')
    optionError('documents', `audited() documents must be a function (args, result) => ids; got ${show(documents)}.`);
  for (const [name, value] of [
    ['captureArgs', captureArgs],
    ['captureResult', captureResult],
  ] as const) {
    if (value !== undefined && typeof value !== 'boolean') optionError(name, `audited() ${name} must be true or false; got ${show(value)}.`);
  }
  for (const [name, value] of [
    ['collectionName', collectionName],
    ['notes', notes],
  ] as const) {
    if (value !== undefined && value !== null && typeof value !== 'string')
      optionError(name, `audited() ${name} must be a string or null; got ${show(value)}.`);
  }
}

function actionOf(options: AuditedOptions, fallback: string): string {
  const action = options.action ?? fallback;
  if (typeof action !== 'string' || action.trim() === '' || action.length > MAX_ACTION_LENGTH) {
    optionError(
      'action',
      `audited() needs an action of 1 to ${MAX_ACTION_LENGTH} characters (it defaults to the function's name, and this one has none); got ${show(options.action)}.`,
    );
  }
  return action;
}

function errorDetails(error: unknown): { name: string; message: string; stack?: string; code?: string | number } {
  if (error instanceof Error) {
    const code = (error as { code?: unknown }).code;
    return {
      name: error.name,
      message: String(error.message).slice(0, MAX_ERROR_MESSAGE),
      ...(typeof error.stack === 'string' ? { stack: error.stack.slice(0, MAX_STACK) } : {}),
      ...(typeof code === 'string' || typeof code === 'number' ? { code } : {}),
    };
  }
  let message: string;
  try {
    message = String(error);
  } catch {
    message = Object.prototype.toString.call(error);
  }
  return { name: typeof error, message: message.slice(0, MAX_ERROR_MESSAGE) };
}

/**
 * Wraps `fn`. `fixed` is the instance chosen at wrap time (`audit.audited`, `{ audit }`),
 * null when it is disabled; without one, each call uses the instance of its context.
 */
function wrap<F extends AnyFunction>(fn: F, options: AuditedWith, fixed: Fixed, fallbackName: string): F {
  markContextConsumed();
  const action = actionOf(options, fallbackName);
  if (fixed) checkAction(fixed.config.actions, fixed.config.strictActions, action);
  const { collectionName = null, notes = null, documents, captureArgs = true, captureResult = true } = options;
  let warned = false;

  const wrapped = function auditedCall(this: unknown, ...args: unknown[]): unknown {
    const context = currentContext();
    const sink = fixed !== undefined ? fixed : context?.sink;
    if (!sink) {
      // No instance at all is a wiring mistake worth one warning; a disabled one is a choice.
      if (sink === undefined && !warned) {
        warned = true;
        process.emitWarning(
          `express-audit-log: ${action} ran unaudited: no audit instance. Pass { audit }, use audit.audited(fn), or call it inside a recorded request or audit.runWithContext().`,
          { code: 'EAUDIT_NO_INSTANCE' },
        );
      }
      return fn.apply(this, args);
    }
    if (fixed === undefined) checkAction(sink.config.actions, sink.config.strictActions, action);

    // The arguments as they were at the call: the function may mutate them.
    const payload: Sanitized | undefined = captureArgs ? sanitize({ args }, sink.limits) : undefined;
    const start = performance.now();
    const finish = (ok: boolean, outcome: unknown): void => {
      // Runs on the app's path: whatever goes wrong here is reported, never thrown.
      try {
        const durationMs = Math.round((performance.now() - start) * 1000) / 1000;
        const docs = documents ? ids(documents(args, ok ? outcome : undefined) ?? null) : null;
        const value = ok && captureResult ? sanitize(outcome, sink.limits) : null;
        const error = ok ? null : errorDetails(outcome);
        const result: Sanitized = error
          ? { value: { status: 'Failure', error }, bytes: 64 + error.message.length + (error.stack?.length ?? 0), truncated: false }
          : { value: { status: 'Success', ...(value ? { value: value.value } : {}) }, bytes: 32 + (value?.bytes ?? 0), truncated: value?.truncated ?? false };
        emitEntry(sink, context, {
          action,
          collectionName,
          documents: docs,
          notes,
          isError: !ok,
          responseMessage: error?.message ?? null,
          durationMs,
          sanitized: { ...(payload ? { payload } : {}), result },
        });
      } catch (failure) {
        sink.fail(failure);
      }
    };

    let returned: unknown;
    try {
      returned = fn.apply(this, args);
    } catch (error) {
      finish(false, error);
      throw error;
    }
    if (!types.isPromise(returned)) {
      finish(true, returned);
      return returned;
    }
    return (returned as Promise<unknown>).then(
      (value) => {
        finish(true, value);
        return value;
      },
      (error: unknown) => {
        finish(false, error);
        throw error;
      },
    );
  };
  Object.defineProperty(wrapped, 'name', { value: fn.name, configurable: true });
  Object.defineProperty(wrapped, 'length', { value: fn.length, configurable: true });
  return wrapped as F;
}

/**
 * Records every call of `fn` into `options.audit`, or, when none is given, into the instance
 * of the request or `runWithContext` the call runs in. With neither, `fn` runs unaudited and
 * an EAUDIT_NO_INSTANCE warning is emitted once.
 */
export function audited<F extends AnyFunction>(fn: F, options: AuditedWith<Parameters<F>, ReturnType<F>> = {}): F {
  if (typeof fn !== 'function') optionError('fn', `audited(fn, options) needs a function; got ${show(fn)}.`);
  checkOptions(options);
  const fixed = options.audit !== undefined ? sinkOfHandle(options.audit) : undefined;
  return wrap(fn, options as AuditedWith, fixed, fn.name);
}

/** `audit.audited(fn, options)`: bound to one instance. */
export function auditedBy(sink: EventSink | null) {
  return function auditedWithInstance<F extends AnyFunction>(fn: F, options: AuditedOptions<Parameters<F>, ReturnType<F>> = {}): F {
    if (typeof fn !== 'function') optionError('fn', `audit.audited(fn, options) needs a function; got ${show(fn)}.`);
    checkOptions(options);
    if ((options as AuditedWith).audit !== undefined)
      optionError('audit', 'audit.audited() is already bound to an instance; drop the audit option or call audited(fn, { audit }).');
    return wrap(fn, options as AuditedWith, sink, fn.name);
  };
}

/**
 * `@Audited({ action, collectionName, audit? })` on a class method (TC39 decorators; no
 * `experimentalDecorators`). The action defaults to the method's name.
 */
export function Audited<This, Args extends unknown[], Result>(options: AuditedWith<Args, Result> = {}) {
  checkOptions(options);
  const fixed = options.audit !== undefined ? sinkOfHandle(options.audit) : undefined;
  return function auditedMethod(
    method: (this: This, ...args: Args) => Result,
    context: ClassMethodDecoratorContext<This, (this: This, ...args: Args) => Result>,
  ): (this: This, ...args: Args) => Result {
    if (context.kind !== 'method') optionError('decorator', `@Audited() decorates methods; it was put on a ${String((context as { kind: unknown }).kind)}.`);
    return wrap(method, options as AuditedWith, fixed, String(context.name));
  };
}
