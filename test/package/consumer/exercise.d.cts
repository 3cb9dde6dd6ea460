// The TypeScript consumers' view of exercise.cjs: loose on purpose, so the types that matter are the package's.
export function exercise(
  app: unknown,
  audit: { flush(): Promise<unknown>; close(deadlineMs?: number): Promise<unknown> },
  auditLog: (...args: never[]) => unknown,
): Promise<string>;
export function report(run: () => Promise<string>): void;
