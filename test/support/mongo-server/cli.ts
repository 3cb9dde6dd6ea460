/**
 * Runs the test server as its own process (the benchmark does, so the server's work does not
 * share an event loop with the code being measured). Prints one JSON line `{"uri": ...}`.
 *
 *   node cli.js [--port N] [--ttl-interval MS]
 */
import { startMongoTestServer } from './index';

function option(name: string): number | undefined {
  const i = process.argv.indexOf(name);
  if (i < 0) return undefined;
  const value = Number(process.argv[i + 1]);
  if (!Number.isInteger(value) || value < 0) {
    process.stderr.write(`${name} needs a non-negative integer\n`);
    process.exit(2);
  }
  return value;
}

async function main(): Promise<void> {
  const server = await startMongoTestServer({ port: option('--port'), ttlMonitorIntervalMs: option('--ttl-interval') });
  process.stdout.write(`${JSON.stringify({ uri: server.uri, port: server.port })}\n`);
  const stop = (): void => {
    void server.close().then(() => process.exit(0));
  };
  process.once('SIGTERM', stop);
  process.once('SIGINT', stop);
  // The server's own timers are unref'd; keep the process alive until a signal arrives.
  setInterval(() => undefined, 1 << 30);
}

main().catch((err: unknown) => {
  process.stderr.write(`${err instanceof Error ? (err.stack ?? err.message) : String(err)}\n`);
  process.exit(1);
});
