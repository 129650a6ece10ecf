/**
 * Progress events from the pipeline (design.md "Progress"). Library code never prints: it calls
 * `emit`, and a front (CLI renderer, service logger) decides what to show.
 */
export type ProgressEvent =
  | { type: 'step-start'; step: string; detail?: string; total?: number }
  | { type: 'bytes'; step: string; done: number; total?: number }
  | { type: 'step-done'; step: string; detail?: string }
  | { type: 'warning'; message: string }
  | { type: 'info'; message: string };

export type ProgressSink = (event: ProgressEvent) => void;

export const silentProgress: ProgressSink = () => {};
