'use strict';
/**
 * The child process mongo-server.js starts: the test server's own cli.js, with every command
 * the server answers with an error written to stderr as one `EAL-REFUSED {json}` line, so the
 * harness can tell a gap in the test server (a command or option real MongoDB supports) from
 * the app's expected errors. Argument: the directory of the transpiled server.
 */
const path = require('path');

const dir = process.argv[2];
const dispatch = require(path.join(dir, 'commands', 'dispatch.js'));
const runCommand = dispatch.runCommand;
dispatch.runCommand = function loggedRunCommand(ctx) {
  const reply = runCommand.apply(this, arguments);
  if (reply && reply.ok === 0) {
    process.stderr.write(
      `EAL-REFUSED ${JSON.stringify({ db: ctx.db, command: ctx.name, code: reply.code, codeName: reply.codeName, errmsg: String(reply.errmsg).slice(0, 300) })}\n`,
    );
  }
  return reply;
};
process.argv.splice(2, 1);
require(path.join(dir, 'cli.js'));
