'use strict';
/**
 * Hapi tests that fail with the plugin only because they observe its legitimate presence (its
 * routes in server.table(), its registration, its exposed properties, its ext points...), each with
 * the reason, checked by reading the test. A difference listed here must be a failure with the
 * plugin; anything else is a finding. `test` is "<describe path> :: <title>" as run.js prints it.
 */
const list = [];

function matches(expectation, test) {
  return expectation.test === test;
}

function reasonFor(test) {
  const found = list.find((e) => matches(e, test));
  return found ? found.reason : null;
}

module.exports = { list, matches, reasonFor };
