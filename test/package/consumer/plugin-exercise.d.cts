// The TypeScript consumers' view of plugin-exercise.cjs: loose on purpose, so the types that matter are the package's.
export interface ExercisedApp {
  framework: string;
}
export function exercisePlugin(app: ExercisedApp): Promise<string>;
export function fastifyApp(app: unknown): ExercisedApp;
export function hapiServer(server: unknown): ExercisedApp;
