import { WAKE_CHANNEL, type LeasedRunner } from './leasedRunnerState.js';

/** The holder's pause between looks at the log, cut short by `wakeUp` (see LeasedRunner). */
export function idle(runner: LeasedRunner, ms: number): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    timer.unref();
    function done() {
      clearTimeout(timer);
      runner.wakeUp = null;
      resolve();
    }
    runner.wakeUp = done;
  });
}

/** A read waits for the read models: wake the holder, at most one message per idle pause. */
export function wake(runner: LeasedRunner): void {
  if (runner.leading) return runner.wakeUp?.();
  const now = Date.now();
  if (now - runner.wakeSentAt < runner.idleMs) return;
  runner.wakeSentAt = now;
  void runner.broker.publish(WAKE_CHANNEL, 1).catch(() => {});
}

/** Another node's read is waiting: when this node holds the lease, its pause ends now. */
export function listenForWakeUps(runner: LeasedRunner): Promise<() => Promise<void>> {
  return runner.broker.subscribe(WAKE_CHANNEL, () => runner.wakeUp?.());
}
