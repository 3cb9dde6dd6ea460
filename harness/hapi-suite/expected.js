'use strict';
/**
 * Hapi tests that fail with the plugin only because they observe its legitimate presence, each
 * with the reason, checked by reading the test, and a check of the failure message: a listed
 * test that fails for another reason is reported as unexplained. `test` is
 * "<describe path> :: <title>" as run.js prints it.
 *
 * The plugin registers 21 routes (GET/POST/DELETE/'*' under /auditLog, 8 of them GET routes
 * with distinct paths besides the admin page's 4) and its name in server.registrations/plugins.
 */
const PLUGIN_ROUTES = 21;

/** "Expected 23 to equal specified value: 2" where the difference is the plugin's route count. */
const routeCount = (message) => {
  const m = /^Expected (\d+) to equal specified value: (\d+)/.exec(message);
  return Boolean(m) && Number(m[1]) - Number(m[2]) === PLUGIN_ROUTES;
};
/** A list of paths or routes that is the expected one plus the plugin's /auditLog routes. */
const auditRoutesListed = (message) => /^Expected \[/.test(message) && /'\/auditLog'/.test(message);
/** server.registrations holding the plugin beside the test's own plugin. */
const registrationListed = (message) => /^Expected \{\n\s+'express-audit-log': \{\n\s+version: '[^']+',\n\s+name: 'express-audit-log'/.test(message);

const TABLE = 'counts server.table() routes: the plugin adds its 21 query, export and admin-page routes to every server';
const ROUTES_LIST = "compares the list of the server's (GET) route paths with exactly the test's own: the plugin's /auditLog routes are in it";
const REGISTRATIONS = "compares server.registrations with exactly the test's plugin: 'express-audit-log' is registered too";

const list = [
  { test: 'Core/table() :: returns an array of the current routes', error: routeCount, reason: TABLE },
  { test: 'Core/table() :: combines global and vhost routes', error: routeCount, reason: TABLE },
  {
    test: 'Core/table() :: combines global and vhost routes and filters based on host',
    error: routeCount,
    reason: `${TABLE} (they have no vhost, so every host lists them)`,
  },
  { test: 'Core/table() :: accepts a list of hosts', error: routeCount, reason: `${TABLE} (no vhost)` },
  { test: 'Core/table() :: ignores unknown host', error: routeCount, reason: `${TABLE} (no vhost)` },
  {
    test: 'Core/route() :: adds routes using single and array methods',
    error: auditRoutesListed,
    reason: 'expects server.table() to have length 6 and only the products routes',
  },
  { test: 'Server/expose() :: exposes an api', error: auditRoutesListed, reason: ROUTES_LIST },
  { test: 'Server/ext() :: extends onRequest point', error: auditRoutesListed, reason: ROUTES_LIST },
  { test: 'Server/register() :: registers multiple plugins', error: auditRoutesListed, reason: ROUTES_LIST },
  { test: 'Server/register() :: registers multiple plugins (verbose)', error: auditRoutesListed, reason: ROUTES_LIST },
  { test: 'Server/expose() :: exposes an api (scope without scope)', error: registrationListed, reason: REGISTRATIONS },
  { test: 'Server/expose() :: exposes an api (drops scope by default)', error: registrationListed, reason: REGISTRATIONS },
  { test: 'Server/expose() :: exposes an api (keeps scope)', error: registrationListed, reason: REGISTRATIONS },
  { test: 'Server/expose() :: exposes an api (rewrites scope)', error: registrationListed, reason: REGISTRATIONS },
];

function matches(expectation, test) {
  return expectation.test === test;
}

/** The reason when `test` is listed and failed as the listing says, else null. */
function reasonFor(test, error) {
  const found = list.find((e) => matches(e, test));
  return found && found.error(String(error || '')) ? found.reason : null;
}

module.exports = { list, matches, reasonFor };
