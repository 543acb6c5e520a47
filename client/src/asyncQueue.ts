/**
 * A push source as an AsyncIterableIterator: values queue until read; an error is thrown after
 * the values before it; `return()` (a `break` out of `for await`) stops the source at once,
 * without waiting for another value (unlike an async generator parked on an `await`).
 */
export function pushIterator<T>(start: (push: (value: T) => void, fail: (error: unknown) => void) => () => void): AsyncIterableIterator<T> {
  const queue: T[] = [];
  let failure: { error: unknown } | null = null;
  let finished = false;
  let waiting: { resolve: (result: IteratorResult<T>) => void; reject: (error: unknown) => void } | null = null;

  const finish = (): IteratorResult<T> => {
    finished = true;
    stop();
    return { done: true, value: undefined };
  };

  const stop = start(
    (value) => {
      if (finished) return;
      if (waiting) {
        const { resolve } = waiting;
        waiting = null;
        resolve({ done: false, value });
      } else queue.push(value);
    },
    (error) => {
      if (finished || failure) return;
      failure = { error };
      if (waiting) {
        const { reject } = waiting;
        waiting = null;
        finished = true;
        reject(error);
      }
    },
  );

  const iterator: AsyncIterableIterator<T> = {
    next() {
      if (queue.length > 0) return Promise.resolve({ done: false, value: queue.shift()! });
      if (failure && !finished) {
        finished = true;
        return Promise.reject(failure.error);
      }
      if (finished) return Promise.resolve({ done: true, value: undefined });
      return new Promise((resolve, reject) => (waiting = { resolve, reject }));
    },
    return() {
      const result = finish();
      queue.length = 0;
      if (waiting) {
        waiting.resolve(result);
        waiting = null;
      }
      return Promise.resolve(result);
    },
    [Symbol.asyncIterator]() {
      return iterator;
    },
  };
  return iterator;
}
