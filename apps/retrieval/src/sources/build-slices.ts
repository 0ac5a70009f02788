/** How long a build runs before it yields to the event loop, so requests wait at most about this. */
export const BUILD_SLICE_MS = 4;

/** A clock for one build: true (and restarted) once the slice has run `sliceMs`; Infinity never yields. */
export function sliceClock(sliceMs: number): () => boolean {
  let sliceStart = performance.now();
  return () => {
    if (sliceMs === Infinity || performance.now() - sliceStart < sliceMs) return false;
    sliceStart = performance.now();
    return true;
  };
}

/** Runs a build's steps in one synchronous go. */
export function runToEnd<T>(steps: Generator<void, T>): T {
  for (let step = steps.next(); ; step = steps.next()) if (step.done) return step.value;
}

/**
 * Runs a build's steps, yielding to the event loop (setImmediate) before each: first too, so the
 * caller's synchronous work just before does not add to the first slice.
 */
export async function runInSlices<T>(steps: Generator<void, T>): Promise<T> {
  for (;;) {
    await new Promise<void>((resolve) => setImmediate(resolve));
    const step = steps.next();
    if (step.done) return step.value;
  }
}
