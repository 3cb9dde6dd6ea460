/**
 * Handshake, heartbeat and server-level commands. The hello reply deliberately omits
 * `topologyVersion` (the driver would switch to streaming monitoring with awaitable hellos)
 * and `compression` (it would start sending OP_COMPRESSED). By default it has no `setName`, so
 * the driver sees a Standalone: no transactions, no retryable writes, no read preference. The
 * 'replicaSet' topology answers as a one-member replica set's primary does (setName, hosts,
 * primary, me, setVersion, electionId, lastWrite), 'sharded' as a mongos does (msg: 'isdbgrid'):
 * then the driver sends `$readPreference` for every mode but primary.
 */
import { ObjectId, type Document } from 'bson';
import { CommandError } from '../errors';
import type { CommandContext, CommandHandler } from './context';

export const SERVER_VERSION = '7.0.0';

function hello(ctx: CommandContext): Document {
  return {
    helloOk: true,
    isWritablePrimary: true,
    ismaster: true,
    maxBsonObjectSize: 16 * 1024 * 1024,
    maxMessageSizeBytes: 48_000_000,
    maxWriteBatchSize: 100_000,
    localTime: new Date(),
    logicalSessionTimeoutMinutes: 30,
    connectionId: ctx.connectionId,
    minWireVersion: 0,
    maxWireVersion: 21, // MongoDB 7.0
    readOnly: false,
    ...topologyFields(ctx),
    ok: 1,
  };
}

/** One election for the server's life, as a real primary keeps its electionId until it steps down. */
const ELECTION_ID = new ObjectId('7fffffff0000000000000001');

function topologyFields(ctx: CommandContext): Document {
  const me = `127.0.0.1:${ctx.server.port}`;
  if (ctx.server.topology === 'sharded') return { msg: 'isdbgrid' };
  if (ctx.server.topology !== 'replicaSet') return {};
  const now = new Date();
  return {
    hosts: [me],
    setName: 'rs0',
    setVersion: 1,
    secondary: false,
    primary: me,
    me,
    electionId: ELECTION_ID,
    lastWrite: { lastWriteDate: now, majorityWriteDate: now },
  };
}

function buildInfo(): Document {
  return {
    version: SERVER_VERSION,
    gitVersion: 'express-audit-log-test-server',
    versionArray: [7, 0, 0, 0],
    bits: 64,
    debug: false,
    maxBsonObjectSize: 16 * 1024 * 1024,
    storageEngines: ['inMemory'],
    ok: 1,
  };
}

const PARAMETERS: Readonly<Document> = {
  featureCompatibilityVersion: { version: '7.0' },
  authenticationMechanisms: [],
  internalQueryMaxBlockingSortMemoryUsageBytes: 104857600,
};

function getParameter(ctx: CommandContext): Document {
  const out: Document = {};
  const wanted = ctx.body.getParameter;
  for (const [name, value] of Object.entries(PARAMETERS)) {
    if (wanted === '*' || name in ctx.body) out[name] = value;
  }
  if (Object.keys(out).length === 0) throw new CommandError(72, 'no option found to get');
  return { ...out, ok: 1 };
}

function serverStatus(ctx: CommandContext): Document {
  const uptimeMillis = Date.now() - ctx.server.startedAt;
  return {
    host: `127.0.0.1:${ctx.server.port}`,
    version: SERVER_VERSION,
    process: 'mongod',
    pid: process.pid,
    uptime: Math.floor(uptimeMillis / 1000),
    uptimeMillis,
    localTime: new Date(),
    connections: { current: ctx.server.connectionCount(), available: 1_000_000 },
    ok: 1,
  };
}

const ok = (): Document => ({ ok: 1 });

export const handshakeCommands: Record<string, CommandHandler> = {
  hello,
  ismaster: hello,
  isMaster: hello,
  ping: ok,
  buildInfo,
  buildinfo: buildInfo,
  getParameter,
  serverStatus,
  // Sessions are advertised (logicalSessionTimeoutMinutes) but hold no state here.
  endSessions: ok,
  killSessions: ok,
  killAllSessions: ok,
  refreshSessions: ok,
  connectionStatus: () => ({ authInfo: { authenticatedUsers: [], authenticatedUserRoles: [] }, ok: 1 }),
  hostInfo: () => ({ system: { hostname: '127.0.0.1' }, os: { type: process.platform }, ok: 1 }),
  whatsmyuri: (ctx) => ({ you: `127.0.0.1:${ctx.connectionId}`, ok: 1 }),
};
