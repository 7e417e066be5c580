// What the executor tells the user interface (src/cli/view.ts) while it works.
export type StageState =
  | 'waiting' // for its upstream stages
  | 'locked' // another pipeline holds this key's lock; we will reuse its result
  | 'queued' // ready, waiting for a job slot or devices
  | 'running'
  | 'cached' // found in the store, nothing ran
  | 'done' // ran and published
  | 'failed'
  | 'blocked'; // an upstream failed, so it did not run

export interface Reporter {
  /** The stages this command deals with, in graph order. */
  start(ids: readonly string[]): void;
  state(id: string, state: StageState, detail?: string): void;
  /** One line of a stage's output. */
  line(id: string, text: string, stream: 'stdout' | 'stderr'): void;
  /** A message from the pipeline itself. */
  note(text: string): void;
  finish(): void;
}
