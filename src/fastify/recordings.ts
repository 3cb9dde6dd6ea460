/**
 * The requests being recorded, and each request's reply, by Fastify request: WeakMaps rather
 * than properties on the request (an own property added per request makes it a slow object).
 * Its own module so that the request context can ask for a request's id without the recorder.
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
}

const RECORDINGS = new WeakMap<FastifyRequest, Recording>();
const REPLIES = new WeakMap<FastifyRequest, FastifyReply>();

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

export function rememberReply(request: FastifyRequest, reply: FastifyReply): void {
  REPLIES.set(request, reply);
}

export function replyOf(request: FastifyRequest): FastifyReply | undefined {
  return REPLIES.get(request);
}
