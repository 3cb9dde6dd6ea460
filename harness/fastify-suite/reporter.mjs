/**
 * node:test reporter for run.js: one JSON line per finished test, with its full title (the
 * names of its enclosing tests, ' > '-joined), its file and its outcome. Tests are nested by
 * `nesting`; the enclosing names come from the test:start events of the same file.
 */
export default async function* reporter(source) {
  const stacks = new Map(); // file -> names by nesting level
  for await (const event of source) {
    const data = event.data || {};
    const file = data.file || '(no file)';
    if (event.type === 'test:start') {
      if (!stacks.has(file)) stacks.set(file, []);
      const stack = stacks.get(file);
      stack[data.nesting] = data.name;
      stack.length = data.nesting + 1;
      continue;
    }
    if (event.type !== 'test:pass' && event.type !== 'test:fail') continue;
    const stack = stacks.get(file) || [];
    const title = [...stack.slice(0, data.nesting), data.name].join(' > ');
    let state = event.type === 'test:pass' ? 'passed' : 'failed';
    if (data.skip !== undefined) state = 'skipped';
    else if (data.todo !== undefined) state = event.type === 'test:pass' ? 'todo' : 'todo-failed';
    const error = data.details && data.details.error;
    const message = error
      ? String((error.cause && error.cause.message) || error.message || error)
          .split('\n')[0]
          .slice(0, 300)
      : undefined;
    yield `${JSON.stringify({ file, title, state, error: state === 'failed' ? message : undefined, subtests: data.details && data.details.type === 'suite' })}\n`;
  }
}
