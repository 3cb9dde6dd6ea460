/**
 * The import graph of src/, read with the TypeScript compiler's own pre-processor (no extra package):
 * which src files each file imports (relative imports resolved to files) and which packages it names.
 * `import type` counts too: a type-only import still ties a layer to the module it names.
 */
import * as fs from 'fs';
import * as path from 'path';
import * as ts from 'typescript';

export interface ImportGraph {
  /** src-relative file → the src-relative files it imports */
  files: Map<string, string[]>;
  /** src-relative file → the bare package names it imports */
  packages: Map<string, string[]>;
}

function listSources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const full = path.join(dir, entry.name);
    if (entry.isDirectory()) out.push(...listSources(full));
    else if (entry.name.endsWith('.ts') && !entry.name.endsWith('.d.ts')) out.push(full);
  }
  return out;
}

function resolveRelative(from: string, specifier: string): string | null {
  const base = path.resolve(path.dirname(from), specifier);
  for (const candidate of [base, `${base}.ts`, path.join(base, 'index.ts')]) {
    if (fs.existsSync(candidate) && fs.statSync(candidate).isFile()) return candidate;
  }
  return null;
}

function packageName(specifier: string): string {
  const parts = specifier.split('/');
  return specifier.startsWith('@') ? parts.slice(0, 2).join('/') : (parts[0] ?? specifier);
}

export function readImportGraph(srcDir: string): ImportGraph {
  const files = new Map<string, string[]>();
  const packages = new Map<string, string[]>();
  for (const file of listSources(srcDir)) {
    const info = ts.preProcessFile(fs.readFileSync(file, 'utf8'), true, true);
    const key = path.relative(srcDir, file);
    const local: string[] = [];
    const bare: string[] = [];
    for (const { fileName } of info.importedFiles) {
      if (fileName.startsWith('.')) {
        const resolved = resolveRelative(file, fileName);
        if (resolved) local.push(path.relative(srcDir, resolved));
      } else {
        bare.push(packageName(fileName));
      }
    }
    files.set(key, [...new Set(local)]);
    packages.set(key, [...new Set(bare)]);
  }
  return { files, packages };
}

/** Every import cycle, each once, as the list of files around it (Tarjan's strongly connected components). */
export function findCycles(graph: Map<string, string[]>): string[][] {
  let index = 0;
  const indexes = new Map<string, number>();
  const lowlinks = new Map<string, number>();
  const stack: string[] = [];
  const onStack = new Set<string>();
  const components: string[][] = [];
  const visit = (node: string): void => {
    indexes.set(node, index);
    lowlinks.set(node, index);
    index++;
    stack.push(node);
    onStack.add(node);
    for (const next of graph.get(node) ?? []) {
      if (!indexes.has(next)) {
        visit(next);
        lowlinks.set(node, Math.min(lowlinks.get(node)!, lowlinks.get(next)!));
      } else if (onStack.has(next)) {
        lowlinks.set(node, Math.min(lowlinks.get(node)!, indexes.get(next)!));
      }
    }
    if (lowlinks.get(node) === indexes.get(node)) {
      const component: string[] = [];
      let member: string;
      do {
        member = stack.pop()!;
        onStack.delete(member);
        component.push(member);
      } while (member !== node);
      const selfLoop = (graph.get(node) ?? []).includes(node);
      if (component.length > 1 || selfLoop) components.push(component.sort());
    }
  };
  for (const node of [...graph.keys()].sort()) if (!indexes.has(node)) visit(node);
  return components;
}
