/**
 * The requests being recorded, by Fastify request: a WeakMap rather than properties on the
 * request (an own property added per request makes it a slow object). Only recorded requests get
 * an entry: a WeakMap entry per GET cost a quarter of Fastify's GET throughput, measured. Its own
 * module so that the request context can ask for a request's id without the recorder.
 */
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { AuditContext } from '../events/context';

export interface Recording {
  start: number;
  method: string;
  /** The URL path without the query, read when the request arrived. */
  url: string;
  requestId: string;
  /** The serialized payload `onSend` saw last. */
  body: string | Buffer | undefined;
  context: AuditContext | null;
  /** The request's reply: the status of a request whose client left. */
  reply: FastifyReply;
}

const RECORDINGS = new WeakMap<FastifyRequest, Recording>();

export function startRecording(request: FastifyRequest, recording: Recording): void {
  RECORDINGS.set(request, recording);
}

export function recordingOf(request: FastifyRequest): Recording | undefined {
  return RECORDINGS.get(request);
}

/** Ends the recording: the next call finds none, so an entry is built once. */
export function takeRecording(request: FastifyRequest): Recording | undefined {
  const recording = RECORDINGS.get(request);
  if (recording) RECORDINGS.delete(request);
  return recording;
}

/**
 * Where a request keeps its reply, so that record(request, …) on a request the recorder does not
 * record can echo its X-Request-Id (a Fastify request does not know its reply). A request
 * decoration (plugin.ts), not a WeakMap: every request of the context sets it.
 */
export const REPLY = Symbol('express-audit-log.reply');

type WithReply = FastifyRequest & { [REPLY]?: FastifyReply | null };

export function keepReply(request: FastifyRequest, reply: FastifyReply): void {
  (request as WithReply)[REPLY] = reply;
}

export function replyOf(request: FastifyRequest): FastifyReply | null {
  return (request as WithReply)[REPLY] ?? null;
}
