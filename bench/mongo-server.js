'use strict';
/**
 * Runs the MongoDB wire-protocol test server (test/support/mongo-server/cli.ts, compiled by
 * run.js into bench/.build/) in its own process, forked with an IPC channel only so that it
 * exits with the orchestrator even if that one is killed without cleaning up.
 * The server prints one JSON line `{"uri": ...}` on stdout.
 */
const path = require('node:path');

process.on('disconnect', () => process.exit(0));
require(path.join(__dirname, '.build/test/support/mongo-server/cli.js'));
