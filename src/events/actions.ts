/**
 * Registered actions and their message templates. `actions: { 'record.publish': { message:
 * '{user} published {collectionName} {documents.0}' } }` is checked once at `auditLog()`, so a
 * typo in a placeholder fails at startup; rendering later never throws: a placeholder with no
 * value renders as nothing.
 */
import { FIELD_NAMES, type AuditEntry } from '../entry';
import { AuditLogConfigError, show } from '../errors';
import { getPath } from '../capture/path';

/** What an app says about one action up front. */
export interface ActionDefinition {
  /** A template like `'{user} published {collectionName} {documents.0}'`: `{path}` reads a dotted path of the entry. */
  message?: string;
  /** The template for entries with `isError: true`. Without it they get no message: "published" would be untrue. */
  failureMessage?: string;
}

export interface ActionSpec {
  message: string | null;
  failureMessage: string | null;
}

const TEMPLATE_KEYS = ['message', 'failureMessage'] as const;

export const MAX_ACTION_LENGTH = 128;
const MAX_TEMPLATE = 1000;
/** Stored messages are searchable text, not documents: long ones are cut. */
export const MAX_MESSAGE = 2000;
const PLACEHOLDER = /\{([A-Za-z_$][\w$]*(?:\.[\w$-]+)*)\}/g;

function fail(option: string, message: string): never {
  throw new AuditLogConfigError('EAUDIT_OPTION', option, message);
}

/** Validates the `actions` option; every placeholder must start at an entry field. */
export function parseActions(value: unknown): Map<string, ActionSpec> {
  const actions = new Map<string, ActionSpec>();
  if (value === undefined) return actions;
  if (value === null || typeof value !== 'object' || Array.isArray(value)) {
    fail('actions', `actions must be an object like { 'record.publish': { message: '{user} published {documents.0}' } }; got ${show(value)}.`);
  }
  for (const [name, definition] of Object.entries(value)) {
    const at = `actions.${name}`;
    if (name.trim() === '' || name.length > MAX_ACTION_LENGTH) fail(at, `action names must be 1 to ${MAX_ACTION_LENGTH} characters; got ${show(name)}.`);
    if (definition === null || typeof definition !== 'object' || Array.isArray(definition)) {
      fail(at, `actions['${name}'] must be an object like { message: '{user} did it' } (or {} to only register the name); got ${show(definition)}.`);
    }
    for (const key of Object.keys(definition)) {
      if (!(TEMPLATE_KEYS as readonly string[]).includes(key))
        fail(`${at}.${key}`, `actions['${name}'] has unknown key '${key}'; accepted: ${TEMPLATE_KEYS.join(', ')}.`);
    }
    const spec: ActionSpec = { message: null, failureMessage: null };
    for (const key of TEMPLATE_KEYS) {
      const template = (definition as ActionDefinition)[key];
      if (template === undefined) continue;
      if (typeof template !== 'string' || template.length > MAX_TEMPLATE) {
        fail(`${at}.${key}`, `actions['${name}'].${key} must be a template string of up to ${MAX_TEMPLATE} characters; got ${show(template)}.`);
      }
      for (const [, path] of template.matchAll(PLACEHOLDER)) {
        const root = path!.split('.')[0]!;
        if (!(FIELD_NAMES as readonly string[]).includes(root)) {
          fail(
            `${at}.${key}`,
            `actions['${name}'].${key} has the placeholder {${path}}, but '${root}' is not an entry field; use one of ${FIELD_NAMES.join(', ')}.`,
          );
        }
      }
      spec[key] = template;
    }
    actions.set(name, spec);
  }
  return actions;
}

/** Throws at the call when `strictActions` is on and the action was never registered. */
export function checkAction(actions: ReadonlyMap<string, ActionSpec>, strict: boolean, action: string): void {
  if (!strict || actions.has(action)) return;
  const known = [...actions.keys()];
  throw new AuditLogConfigError(
    'EAUDIT_UNKNOWN_ACTION',
    'action',
    `the action ${show(action)} is not registered and strictActions is on; register it in the actions option (known: ${known.join(', ') || 'none'}).`,
  );
}

function format(value: unknown): string {
  if (value === null || value === undefined) return '';
  if (typeof value === 'string') return value;
  if (typeof value === 'number' || typeof value === 'boolean' || typeof value === 'bigint') return String(value);
  if (value instanceof Date) return Number.isNaN(value.getTime()) ? '' : value.toISOString();
  if (Array.isArray(value)) return value.map(format).join(', ');
  try {
    return JSON.stringify(value) ?? '';
  } catch {
    return '';
  }
}

/** Fills `{path}` placeholders from the entry. Never throws; what is missing renders empty. */
export function renderTemplate(template: string, entry: AuditEntry): string {
  return template.replace(PLACEHOLDER, (_, path: string) => format(getPath(entry, path))).slice(0, MAX_MESSAGE);
}

/**
 * The message stored with an entry: the one given, else the action's rendered template.
 * Rendered from the sanitized entry, so a placeholder can never reveal a redacted value.
 */
export function messageFor(actions: ReadonlyMap<string, ActionSpec>, entry: AuditEntry, given?: string | null): string | null {
  if (typeof given === 'string') return given.slice(0, MAX_MESSAGE);
  if (actions.size === 0 || entry.action === null) return null;
  const spec = actions.get(entry.action);
  const template = entry.isError ? spec?.failureMessage : spec?.message;
  return template ? renderTemplate(template, entry) : null;
}
