'use strict';
/**
 * The benchmark scripts' command line, parsed one way: `--name=value` gives a string, `--flag`
 * gives true. With `known`, any other option, or an argument that is not an option, is a
 * UsageError naming it (a mistyped option must not silently run the defaults).
 */

/** A mistake on the command line: printed without a stack trace, with the usage. */
class UsageError extends Error {}

function parseArgs(argv, known = null) {
  const args = {};
  for (const a of argv) {
    const m = /^--([^=]+)(?:=(.*))?$/.exec(a);
    if (!m) throw new UsageError(`unknown argument ${a}`);
    if (known && !known.includes(m[1])) throw new UsageError(`unknown option --${m[1]} (${known.map((k) => `--${k}`).join(', ')})`);
    args[m[1]] = m[2] === undefined ? true : m[2];
  }
  return args;
}

/** parseArgs over this process's arguments, for the one-shot scripts: a mistake ends the process (exit code 2) with its message. */
function cliArgs(known) {
  try {
    return parseArgs(process.argv.slice(2), known);
  } catch (err) {
    if (!(err instanceof UsageError)) throw err;
    console.error(err.message);
    process.exit(2);
  }
}

/** A comma-separated option value as a list, blanks dropped. */
const list = (s) =>
  String(s)
    .split(',')
    .map((x) => x.trim())
    .filter(Boolean);

module.exports = { parseArgs, cliArgs, list, UsageError };
