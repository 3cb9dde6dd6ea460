/** The parts of nedb's query engine the memory store reuses (the package ships no types for this module). */
declare module '@seald-io/nedb/lib/model.js' {
  export function match(document: unknown, query: unknown): boolean;
  export function compareThings(a: unknown, b: unknown): number;
  export function getDotValue(document: unknown, field: string): unknown;
}
