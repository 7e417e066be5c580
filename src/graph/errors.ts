// Errors that come from the user's input (graph module, command line, files) rather than
// from a bug. pipeline.ts prints their message alone, without a stack, and exits 2.
export class GraphError extends Error {
  override name = 'GraphError';
}
