// The TypeScript consumers' view of fastify-exercise.cjs: loose on purpose, so the types that matter are the package's.
export function exerciseFastify(app: unknown): Promise<string>;
