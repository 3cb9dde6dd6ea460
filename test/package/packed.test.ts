/**
 * The package as users get it, like helmet's and express-rate-limit's packed-package tests: `npm pack`
 * (which builds through prepack), then the tarball installed from the registry's way into fresh
 * projects in a temp dir, one per Express major with and without mongoose, each running a CommonJS,
 * an ES module and TypeScript (nodenext, bundler; skipLibCheck false) app that imports the package by
 * name and records one request; and a Fastify 5 and a Hapi 21 project, where npm must not install
 * Express (an optional peer), each running its plugin the same three ways. Installs share npm's cache
 * and prefer it (`--prefer-offline`); the projects install side by side, and every consumer of a
 * project shares its install.
 *
 * EAL_NODE_BINARIES (paths, ':'-separated) runs every consumer again on each of those Node binaries
 * (scripts/node-versions.js fetches them from the npm registry).
 */
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { promisify } from 'node:util';

const run = promisify(execFile);
const ROOT = path.join(__dirname, '..', '..');
const CONSUMER = path.join(__dirname, 'consumer');
const TSC = path.join(ROOT, 'node_modules', 'typescript', 'bin', 'tsc');

interface Project {
  name: string;
  express: string;
  typesExpress: string;
  /** The mongoose version spec, or null for a project without mongoose. */
  mongoose: string | null;
}

// The Express 4 floor (4.17) and the newest 4; mongoose 8 with Express 4, 9 with Express 5.
const PROJECTS: Project[] = [
  { name: 'express4', express: 'express@~4.17.1', typesExpress: '@types/express@^4.17.0', mongoose: null },
  { name: 'express4-mongoose8', express: 'express@^4.21.2', typesExpress: '@types/express@^4.17.21', mongoose: 'mongoose@^8.0.0' },
  { name: 'express5', express: 'express@^5.0.0', typesExpress: '@types/express@^5.0.0', mongoose: null },
  { name: 'express5-mongoose9', express: 'express@^5.0.0', typesExpress: '@types/express@^5.0.0', mongoose: 'mongoose@^9.0.0' },
];

/** The programs each project runs: the JS apps as they are, the TypeScript ones once compiled. */
const PROGRAMS = ['app.cjs', 'app.mjs', 'nodenext.cjs', 'nodenext.mjs', 'bundler.mjs'];

const nodeBinaries = [process.execPath, ...(process.env.EAL_NODE_BINARIES ?? '').split(':').filter(Boolean)];

let work: string;
let tarball: string;
const installed = new Map<string, Promise<string>>();

async function npm(args: string[], cwd: string): Promise<string> {
  const { stdout } = await run('npm', args, {
    cwd,
    maxBuffer: 16 * 1024 * 1024,
    env: { ...process.env, npm_config_audit: 'false', npm_config_fund: 'false', npm_config_update_notifier: 'false' },
  });
  return stdout;
}

/** Installs a project once, however many tests wait for it. */
function install(project: Project): Promise<string> {
  let done = installed.get(project.name);
  if (!done) {
    done = (async () => {
      const dir = path.join(work, project.name);
      fs.cpSync(CONSUMER, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${project.name}`, version: '1.0.0', private: true }));
      const packages = [tarball, project.express, project.typesExpress, '@types/node@^20.19.0', ...(project.mongoose ? [project.mongoose] : [])];
      // No --legacy-peer-deps: npm must accept the peer ranges as they are.
      await npm(['install', '--prefer-offline', '--no-package-lock', ...packages], dir);
      return dir;
    })();
    installed.set(project.name, done);
  }
  return done;
}

async function tsc(dir: string, config: string): Promise<void> {
  try {
    await run(process.execPath, [TSC, '-p', config], { cwd: dir });
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`tsc -p ${config} failed in ${path.basename(dir)}:\n${stdout}${stderr}`);
  }
}

async function node(binary: string, dir: string, program: string): Promise<string> {
  try {
    const { stdout } = await run(binary, [program], { cwd: dir, timeout: 60_000 });
    return stdout.trim();
  } catch (error) {
    const { stdout, stderr } = error as { stdout?: string; stderr?: string };
    throw new Error(`${binary} ${program} failed in ${path.basename(dir)}:\n${stdout}${stderr}`);
  }
}

beforeAll(async () => {
  work = fs.mkdtempSync(path.join(os.tmpdir(), 'eal-packed-'));
  await npm(['pack', '--pack-destination', work], ROOT);
  const [file] = fs.readdirSync(work).filter((name) => name.endsWith('.tgz'));
  if (!file) throw new Error(`npm pack made no tarball in ${work}`);
  tarball = path.join(work, file);
  // Start every install now, side by side; each test waits for the one it needs.
  for (const project of PROJECTS) install(project).catch(() => undefined);
  for (const project of PLUGIN_PROJECTS) installPluginProject(project).catch(() => undefined);
}, 180_000);

afterAll(() => {
  if (work) fs.rmSync(work, { recursive: true, force: true });
});

describe('the tarball', () => {
  let files: string[];
  beforeAll(async () => {
    const { stdout } = await run('tar', ['-tzf', tarball]);
    files = stdout
      .split('\n')
      .filter(Boolean)
      .map((name) => name.replace(/^package\//, ''));
  });

  test('ships the built package, its types, README, LICENSE and CHANGELOG', () => {
    expect(files).toEqual(
      expect.arrayContaining(['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md', 'dist/index.js', 'dist/index.d.ts', 'dist/ui/static/index.html']),
    );
  });

  test('and no sources, tests, maps or configuration', () => {
    expect(files.filter((name) => !/^dist\//.test(name) && !['package.json', 'README.md', 'LICENSE', 'CHANGELOG.md'].includes(name))).toEqual([]);
    expect(files.filter((name) => /\.map$|\.ts$/.test(name) && !name.endsWith('.d.ts'))).toEqual([]);
  });

  test("no published type names mongoose's types (apps without mongoose compile with skipLibCheck false)", async () => {
    const dir = path.join(work, 'unpacked');
    fs.mkdirSync(dir, { recursive: true });
    await run('tar', ['-xzf', tarball, '-C', dir]);
    const naming = files.filter(
      (name) => name.endsWith('.d.ts') && /from ['"]mongoose['"]|import\(['"]mongoose['"]\)/.test(fs.readFileSync(path.join(dir, 'package', name), 'utf8')),
    );
    expect(naming).toEqual([]);
  });
});

/** A project on another framework, without Express (an optional peer npm must not install): the plugin's own entry point. */
interface PluginProject {
  name: string;
  /** What npm installs beside the tarball (Hapi's type declarations import joi, which Hapi does not depend on). */
  packages: string[];
  tsconfig: string;
  /** CommonJS, native ES module, and TypeScript compiled from `<prefix>-ts.mts`. */
  programs: string[];
}

const PLUGIN_PROJECTS: PluginProject[] = [
  { name: 'fastify5', packages: ['fastify@^5.0.0'], tsconfig: 'tsconfig.fastify.json', programs: ['fastify.cjs', 'fastify-esm.mjs', 'fastify-ts.mjs'] },
  { name: 'hapi21', packages: ['@hapi/hapi@^21.0.0', 'joi@^17.0.0'], tsconfig: 'tsconfig.hapi.json', programs: ['hapi.cjs', 'hapi-esm.mjs', 'hapi-ts.mjs'] },
];

function installPluginProject(project: PluginProject): Promise<string> {
  let done = installed.get(project.name);
  if (!done) {
    done = (async () => {
      const dir = path.join(work, project.name);
      fs.cpSync(CONSUMER, dir, { recursive: true });
      fs.writeFileSync(path.join(dir, 'package.json'), JSON.stringify({ name: `consumer-${project.name}`, version: '1.0.0', private: true }));
      await npm(['install', '--prefer-offline', '--no-package-lock', tarball, ...project.packages, '@types/node@^20.19.0'], dir);
      return dir;
    })();
    installed.set(project.name, done);
  }
  return done;
}

describe.each(PLUGIN_PROJECTS)('installed into a fresh project without Express: $name', (project) => {
  let dir: string;
  beforeAll(async () => {
    dir = await installPluginProject(project);
  }, 300_000);

  test('npm did not install Express', () => {
    expect(fs.existsSync(path.join(dir, 'node_modules', 'express'))).toBe(false);
  });

  test('the TypeScript consumer compiles (nodenext, skipLibCheck false)', async () => {
    await tsc(dir, project.tsconfig);
  });

  describe.each(nodeBinaries)('on %s', (binary) => {
    test.each(project.programs)('%s records one request', async (program) => {
      if (program.endsWith('-ts.mjs')) await tsc(dir, project.tsconfig);
      expect(await node(binary, dir, program)).toMatch(/^ok: 1 entry recorded \((fastify|hapi), without express\)/);
    });
  });
});

describe.each(PROJECTS)('installed into a fresh project: $name', (project) => {
  let dir: string;
  beforeAll(async () => {
    dir = await install(project);
  }, 300_000);

  test('TypeScript consumers compile (nodenext and bundler, skipLibCheck false)', async () => {
    await tsc(dir, 'tsconfig.nodenext.json');
    await tsc(dir, 'tsconfig.bundler.json');
    if (project.mongoose) await tsc(dir, 'tsconfig.mongoose.json');
  });

  describe.each(nodeBinaries)('on %s', (binary) => {
    test.each(PROGRAMS)('%s records one request', async (program) => {
      expect(await node(binary, dir, program)).toMatch(/^ok: 1 entry recorded/);
    });
    if (project.mongoose) {
      test("the mongoose parts work with the app's mongoose", async () => {
        expect(await node(binary, dir, 'mongoose.cjs')).toMatch(/^ok: mongoose/);
      });
    }
  });
});
