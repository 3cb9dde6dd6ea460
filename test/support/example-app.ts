/**
 * The example apps as a new user meets them: started with node (they load the built package by
 * name), they print tokens and curl lines. Shared by the Express, Fastify and Hapi example tests.
 */
import { type ChildProcess, execFile, execFileSync, spawn } from 'node:child_process';
import { promisify } from 'node:util';

const run = promisify(execFile);

const hasCurl = (() => {
  try {
    execFileSync('curl', ['--version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
})();
/** The curl-line tests need curl (CI has it). */
export const describeWithCurl = hasCurl ? describe : describe.skip;

export interface ExampleApp {
  child: ChildProcess;
  /** Everything it printed so far (stdout and stderr). */
  output(): string;
  /** SIGTERM, then its exit code (null when it was already gone). */
  stop(): Promise<number | null>;
}

/** Starts `script` with node and resolves once it printed its "Admin page:" line; rejects if it exits or takes over 20 s. */
export async function startExample(script: string, env: Record<string, string>): Promise<ExampleApp> {
  let output = '';
  const child = spawn(process.execPath, [script], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
  child.stdout!.on('data', (chunk) => (output += chunk));
  child.stderr!.on('data', (chunk) => (output += chunk));
  await new Promise<void>((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`${script} did not start:\n${output}`)), 20_000);
    const check = () => {
      if (output.includes('Admin page:')) {
        clearTimeout(timer);
        resolve();
      } else if (child.exitCode !== null) {
        clearTimeout(timer);
        reject(new Error(`${script} exited:\n${output}`));
      } else setTimeout(check, 20);
    };
    check();
  });
  return {
    child,
    output: () => output,
    stop: async () => {
      if (child.exitCode !== null) return null;
      const exited = new Promise<number | null>((resolve) => child.once('exit', (code) => resolve(code)));
      child.kill('SIGTERM');
      return exited;
    },
  };
}

/** Runs every printed curl line verbatim through sh (its trailing comment dropped) and parses each answer as JSON. */
export async function runCurlLines(output: string): Promise<Array<Record<string, any>>> {
  const lines = output
    .split('\n')
    .filter((line) => line.trim().startsWith('curl '))
    .map((line) => line.trim());
  const answers: Array<Record<string, any>> = [];
  for (const line of lines) {
    const { stdout } = await run('sh', ['-c', line.replace(/\s+#.*$/, '')]);
    answers.push(JSON.parse(stdout));
  }
  return answers;
}
