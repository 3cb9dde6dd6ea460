/**
 * What the built package asks of the runtime that loads it. Jest before 27.1 cannot resolve
 * `node:` specifiers (jestjs/jest#11331), and many apps still test with it: every recorded
 * request of such an app would fail to load the package. So dist/ requires core modules by
 * their bare names, which mean the same on every Node this package supports.
 */
import fs from 'node:fs';
import path from 'node:path';

const dist = path.join(__dirname, '..', 'dist');

function files(dir: string): string[] {
  return fs.readdirSync(dir, { withFileTypes: true }).flatMap((item) => {
    const full = path.join(dir, item.name);
    return item.isDirectory() ? files(full) : item.name.endsWith('.js') ? [full] : [];
  });
}

test('dist/ requires no node: specifiers', () => {
  const built = files(dist);
  expect(built.length).toBeGreaterThan(10);
  const offenders = built.filter((file) => /require\(["']node:/.test(fs.readFileSync(file, 'utf8'))).map((file) => path.relative(dist, file));
  expect(offenders).toEqual([]);
});
