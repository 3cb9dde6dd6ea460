'use strict';
/**
 * Hapi tests that fail with the plugin only because they observe its legitimate presence, each
 * with the reason, checked by reading the test, and a check of the failure message: a listed
 * test that fails for another reason is reported as unexplained. `test` is
 * "<describe path> :: <title>" as run.js prints it.
 *
 * With its default options the plugin adds 21 routes under /auditLog (query routes, export,
 * admin page; the hook measures how many with the options of the run) and its name to
 * server.registrations.
 */

/** "Expected 23 to equal specified value: 2" where the difference is the plugin's route count. */
const routeCount = (message, { pluginRoutes }) => {
  const m = /^Expected (\d+) to equal specified value: (\d+)/.exec(message);
  return Boolean(m) && Number(m[1]) - Number(m[2]) === pluginRoutes;
};
/** A list of paths or routes that is the expected one plus the plugin's /auditLog routes. */
const auditRoutesListed = (message) => /^Expected \[/.test(message) && /'\/auditLog'/.test(message);
/** server.registrations holding the plugin beside the test's own plugin. */
const registrationListed = (message) => /^Expected \{\n\s+'express-audit-log': \{\n\s+version: '[^']+',\n\s+name: 'express-audit-log'/.test(message);

const TABLE = 'counts server.table() routes: the plugin adds its query, export and admin-page routes (21 by default) to every server';
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

/**
 * Hapi tests seen failing in a bare run too (timing-dependent on a loaded machine): a difference
 * on them with the same failure is flaky, not the plugin's doing.
 */
const flaky = [
  {
    test: 'Payload :: handles aborted request',
    error: (message) => /^Timed out \(5000ms\)/.test(message),
    evidence:
      "timed out bare in one of six full bare runs (it waits for the server's 'Parse Error' log after the client destroys its request at 50 ms); passes alone, bare and with the plugin",
  },
];

/**
 * Registrations of the plugin that fail because of the test's own code, not the plugin's.
 * (Registered first, the plugin's routes come before the test's rules processor and nothing fails.)
 */
const registrationFailures = [
  {
    test: 'Route/rules :: compiles rules into config (route info)',
    message: /^Cannot read properties of undefined \(reading 'x'\)$/,
    reason:
      "'last' mode: the test's root server.rules() processor reads `rules.x` for every route added after it; Hapi calls it with undefined rules for a route that has none, as the plugin's are (any plugin adding a route without rules would fail the same way)",
  },
  {
    test: 'Route/rules :: cascades rules into configs',
    message: /^Cannot read properties of undefined \(reading 'x'\)$/,
    reason: "'last' mode: the same processor reading `rules.x` (see above)",
  },
];

function matches(expectation, test) {
  return expectation.test === test;
}

/** The reason when `test` is listed and failed as the listing says, else null. */
function reasonFor(test, error, facts) {
  const found = list.find((e) => matches(e, test));
  return found && found.error(String(error || ''), facts) ? found.reason : null;
}

/** Why a difference on `test` failing with `error` is a known flaky test, else null. */
function flakyReason(test, error) {
  const found = flaky.find((e) => matches(e, test));
  return found && found.error(String(error || '')) ? found.evidence : null;
}

/** Why registering the plugin in `test` failed with `message` through no fault of the plugin, else null. */
function registrationReason(test, message) {
  const found = registrationFailures.find((e) => matches(e, test) && e.message.test(message));
  return found ? found.reason : null;
}

module.exports = { list, flaky, registrationFailures, matches, reasonFor, flakyReason, registrationReason };
