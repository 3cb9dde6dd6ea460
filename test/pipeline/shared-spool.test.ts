/**
 * One spoolDir shared by several processes: each replays only its own files and those of
 * processes that are gone, and two live processes never replay the same file. Real child
 * processes (test/support/instances) with journal mode, so every answered request is on disk
 * in spoolDir when a process is killed.
 */
import fs from 'node:fs';
import path from 'node:path';
import { FileSpool } from '../../src/pipeline/spool';
import { killInstances, post, startInstance, type Instance } from '../support/instances/launcher';
import type { ChildSettings } from '../support/instances/child';
import { entry, tempDirs } from './fakes';

const dir = tempDirs();
afterEach(killInstances);

/** The store never takes a write, and every entry past the first goes to the spool: what is answered is on disk. */
function downInstance(spoolDir: string): Promise<Instance> {
  return startInstance({ store: 'down', options: { spoolDir, durability: 'journal', maxQueueEntries: 1, retryMinDelayMs: 10, retryMaxDelayMs: 50 } });
}

const working = (spoolDir: string): ChildSettings => ({ store: 'memory', options: { spoolDir } });

async function answer(instance: Instance, prefix: string, count: number): Promise<string[]> {
  const ids = Array.from({ length: count }, (_, i) => `${prefix}-${i}`);
  for (const id of ids) expect(await post(instance.port, id)).toBe(201);
  return ids;
}

async function storedIds(instance: Instance): Promise<string[]> {
  await instance.flush();
  return (await instance.dump()).map((doc) => doc.requestId ?? '');
}

test('two processes starting at once over what two killed ones left: each file is replayed by one of them, everything once', async () => {
  const spoolDir = path.join(dir(), 'spool');
  const [a, b] = await Promise.all([downInstance(spoolDir), downInstance(spoolDir)]);
  const answered = [...(await answer(a, 'a', 30)), ...(await answer(b, 'b', 30))];
  await Promise.all([a.kill(), b.kill()]);
  const [c, d] = await Promise.all([startInstance(working(spoolDir)), startInstance(working(spoolDir))]);
  const [byC, byD] = await Promise.all([storedIds(c), storedIds(d)]);
  await Promise.all([c.close(), d.close()]);
  expect(byC.filter((id) => byD.includes(id))).toEqual([]);
  expect([...byC, ...byD].sort()).toEqual([...answered].sort());
  expect(fs.readdirSync(spoolDir)).toEqual([]);
});

test("a live process's files are left alone; once it is killed, the next process to start replays them", async () => {
  const spoolDir = path.join(dir(), 'spool');
  const a = await downInstance(spoolDir);
  const answered = await answer(a, 'a', 20);
  const c = await startInstance(working(spoolDir));
  expect(await storedIds(c)).toEqual([]);
  await c.close();
  await a.kill();
  const d = await startInstance(working(spoolDir));
  expect((await storedIds(d)).sort()).toEqual([...answered].sort());
  await d.close();
});

const linuxOnly = fs.existsSync('/proc/self/stat') ? test : test.skip;

linuxOnly('a lock naming a live pid with another start time (the pid was reused) does not keep its files', async () => {
  const spoolDir = dir();
  fs.chmodSync(spoolDir, 0o700);
  // The parent process is alive, but it is not the process that wrote this lock.
  const tag = `${process.ppid}.00000000000000aa`;
  fs.writeFileSync(path.join(spoolDir, `owner-${tag}.lock`), JSON.stringify({ pid: process.ppid, token: '00000000000000aa', start: '1' }), { mode: 0o600 });
  const writer = new FileSpool(spoolDir, () => undefined);
  writer.append([entry('left')]);
  await writer.close();
  const [name] = fs.readdirSync(spoolDir).filter((file) => file.startsWith('spool-'));
  fs.renameSync(path.join(spoolDir, name!), path.join(spoolDir, name!.replace(/-\d+\.[0-9a-f]{16}\.ndjson$/, `-${tag}.ndjson`)));
  const reader = new FileSpool(spoolDir, () => undefined);
  expect((await reader.next(10)).map((e) => e.notes)).toEqual(['left']);
  await reader.close();
  // The stale lock went with its files.
  expect(fs.readdirSync(spoolDir).filter((file) => file.startsWith('owner-'))).toEqual([]);
});
