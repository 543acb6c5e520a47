/**
 * CPU accounting from /proc: how many cores the server, the load client and everything else on
 * the machine used during a measurement. Two cores are shared, so a figure taken while some
 * other process was busy is flagged rather than silently believed.
 */
import { readFileSync } from 'node:fs';

const HZ = 100; // USER_HZ: /proc reports CPU time in these ticks on Linux

interface Sample {
  at: number;
  busyTicks: number;
  irqTicks: number;
  byPid: Map<number, number>;
  sysByPid: Map<number, number>;
}

export interface CpuUsage {
  /** Cores used on average, per pid given. */
  byPid: Map<number, number>;
  /** The kernel-mode part of `byPid` (syscalls: socket writes, fsync). */
  sysByPid: Map<number, number>;
  /** Cores used on average by every other process on the machine (irq/softirq time included). */
  other: number;
  /** The irq + softirq part of `other`: on loopback, much of it is the network traffic of the processes measured. */
  irq: number;
  cores: number;
}

function systemTicks(): { busy: number; irq: number } {
  const fields = readFileSync('/proc/stat', 'utf8').split('\n', 1)[0]!.trim().split(/\s+/).slice(1).map(Number);
  const [user = 0, nice = 0, system = 0, , , irq = 0, softirq = 0, steal = 0] = fields;
  return { busy: user + nice + system + irq + softirq + steal, irq: irq + softirq };
}

function ownTicks(pid: number): { total: number; sys: number } {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // Fields after the command name (which may contain spaces): utime and stime are the 12th and 13th.
    const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return { total: Number(rest[11]) + Number(rest[12]), sys: Number(rest[12]) };
  } catch {
    return { total: 0, sys: 0 };
  }
}

function childrenOf(pid: number): number[] {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  } catch {
    return [];
  }
}

/**
 * A process's CPU ticks with its live descendants' (a balancer's workers). A child that exits
 * during a step drops out of the sum; the processes measured here do not fork mid-step.
 */
function processTicks(pid: number): { total: number; sys: number } {
  const own = ownTicks(pid);
  for (const child of childrenOf(pid)) {
    const sub = processTicks(child);
    own.total += sub.total;
    own.sys += sub.sys;
  }
  return own;
}

export function sampleCpu(pids: number[]): Sample {
  const ticks = pids.map((p) => [p, processTicks(p)] as const);
  const system = systemTicks();
  return {
    at: performance.now(),
    busyTicks: system.busy,
    irqTicks: system.irq,
    byPid: new Map(ticks.map(([p, t]) => [p, t.total])),
    sysByPid: new Map(ticks.map(([p, t]) => [p, t.sys])),
  };
}

export function usageSince(start: Sample): CpuUsage {
  const end = sampleCpu([...start.byPid.keys()]);
  const seconds = (end.at - start.at) / 1000;
  const cores = (ticks: number): number => (seconds > 0 ? ticks / HZ / seconds : 0);
  const byPid = new Map<number, number>();
  const sysByPid = new Map<number, number>();
  for (const [pid, before] of start.sysByPid) sysByPid.set(pid, cores(Math.max(0, (end.sysByPid.get(pid) ?? before) - before)));
  let ours = 0;
  for (const [pid, before] of start.byPid) {
    const used = Math.max(0, (end.byPid.get(pid) ?? before) - before);
    ours += used;
    byPid.set(pid, cores(used));
  }
  return {
    byPid,
    sysByPid,
    other: Math.max(0, cores(end.busyTicks - start.busyTicks - ours)),
    irq: cores(end.irqTicks - start.irqTicks),
    cores: cores(end.busyTicks - start.busyTicks),
  };
}

/**
 * Waits (in one-second looks, at most `maxWaitMs`) until processes other than `pids` use less than
 * `limitCores`, so a measurement does not start in the middle of someone else's burst.
 */
export async function waitForQuiet(pids: number[], limitCores: number, maxWaitMs: number): Promise<{ waitedMs: number; other: number }> {
  const t0 = performance.now();
  let other = Infinity;
  while (performance.now() - t0 < maxWaitMs) {
    const start = sampleCpu(pids);
    await new Promise((resolve) => setTimeout(resolve, 1_000));
    other = usageSince(start).other;
    if (other < limitCores) break;
  }
  return { waitedMs: performance.now() - t0, other };
}
