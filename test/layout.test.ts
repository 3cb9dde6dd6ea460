/**
 * The layers stay apart, so another framework is one more adapter folder beside express/:
 * no import cycles in src/, and only src/express/ names Express (even `import type` counts).
 */
import * as path from 'path';
import { findCycles, readImportGraph } from './support/import-graph';

const graph = readImportGraph(path.join(__dirname, '..', 'src'));

function underExpress(file: string): boolean {
  return file.split(path.sep)[0] === 'express';
}

function underFastify(file: string): boolean {
  return file.split(path.sep)[0] === 'fastify';
}

/** Fastify itself and its plugin helpers. */
function isFastifyPackage(name: string): boolean {
  return name === 'fastify' || name === 'fastify-plugin' || name.startsWith('@fastify/');
}

function underHapi(file: string): boolean {
  return file.split(path.sep)[0] === 'hapi';
}

describe('src layout', () => {
  it('has no import cycles', () => {
    expect(findCycles(graph.files)).toEqual([]);
  });

  it('names express only inside src/express/', () => {
    const outside = [...graph.packages].filter(([file, packages]) => !underExpress(file) && packages.includes('express')).map(([file]) => file);
    expect(outside).toEqual([]);
  });

  it('names fastify only inside src/fastify/', () => {
    const outside = [...graph.packages].filter(([file, packages]) => !underFastify(file) && packages.some(isFastifyPackage)).map(([file]) => file);
    expect(outside).toEqual([]);
  });

  it('keeps the adapters apart, and the core free of both', () => {
    const reaching = [...graph.files]
      .filter(([file, imports]) => (!underFastify(file) && imports.some(underFastify)) || (underFastify(file) && imports.some(underExpress)))
      .map(([file]) => file);
    expect(reaching).toEqual([]);
  });

  it('names @hapi/ packages only inside src/hapi/, and imports from src/hapi/ nowhere else', () => {
    const naming = [...graph.packages]
      .filter(([file, packages]) => !underHapi(file) && packages.some((name) => name.startsWith('@hapi/')))
      .map(([file]) => file);
    expect(naming).toEqual([]);
    const reaching = [...graph.files].filter(([file, imports]) => !underHapi(file) && imports.some(underHapi)).map(([file]) => file);
    expect(reaching).toEqual([]);
  });

  it('keeps the Hapi adapter free of the Express one', () => {
    const reaching = [...graph.files].filter(([file, imports]) => underHapi(file) && imports.some(underExpress)).map(([file]) => file);
    expect(reaching).toEqual([]);
  });

  it('keeps events/ free of the express adapter', () => {
    const reaching = [...graph.files].filter(([file, imports]) => file.startsWith(`events${path.sep}`) && imports.some(underExpress)).map(([file]) => file);
    expect(reaching).toEqual([]);
  });

  it('finds a cycle when there is one (the check itself works)', () => {
    const cycles = findCycles(
      new Map([
        ['a.ts', ['b.ts']],
        ['b.ts', ['c.ts']],
        ['c.ts', ['a.ts']],
        ['d.ts', ['a.ts']],
      ]),
    );
    expect(cycles).toEqual([['a.ts', 'b.ts', 'c.ts']]);
  });
});
