/**
 * CPU time per process from /proc (Linux), without a profiler: how much CPU one request costs
 * each process on its way (load generator, backend, Envoy, gateway). On a 2-core machine that,
 * not waiting, is what caps throughput, so it explains a throughput ratio directly.
 * Clock ticks are 10 ms, so it is read over thousands of requests.
 */
import { readdirSync, readFileSync } from 'node:fs';

const TICK_MS = 10; // USER_HZ is 100 on every mainstream Linux build

/** User + system CPU of a process so far, in ms; undefined when /proc has no such process. */
export function cpuMs(pid: number): number | undefined {
  try {
    // The command name (field 2) may hold spaces: fields are counted after its closing parenthesis.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return (Number(fields[11]) + Number(fields[12])) * TICK_MS;
  } catch {
    return undefined;
  }
}

/**
 * The pid of the Envoy whose admin API is at `adminUrl`: the process whose command line names
 * the config file the admin API reports (the harness does not expose the pid).
 */
export async function envoyPid(adminUrl: string): Promise<number | undefined> {
  const info = (await (await fetch(`${adminUrl}/server_info`)).json()) as { command_line_options?: { config_path?: string } };
  const path = info.command_line_options?.config_path;
  if (!path) return undefined;
  for (const entry of safeList('/proc')) {
    if (!/^\d+$/.test(entry)) continue;
    try {
      if (readFileSync(`/proc/${entry}/cmdline`, 'utf8').split('\0').includes(path)) return Number(entry);
    } catch {
      // gone in the meantime
    }
  }
  return undefined;
}

function safeList(dir: string): string[] {
  try {
    return readdirSync(dir);
  } catch {
    return [];
  }
}

/** CPU ms each named process spent while `run` ran; the load generator is this process. */
export async function cpuDuring(pids: Readonly<Record<string, number | undefined>>, run: () => Promise<void>): Promise<Record<string, number>> {
  const read = (): Record<string, number> => {
    const self = process.cpuUsage();
    const out: Record<string, number> = { 'load-gen': (self.user + self.system) / 1000 };
    for (const [name, pid] of Object.entries(pids)) {
      const ms = pid === undefined ? undefined : cpuMs(pid);
      if (ms !== undefined) out[name] = ms;
    }
    return out;
  };
  const before = read();
  await run();
  const after = read();
  return Object.fromEntries(Object.keys(after).map((k) => [k, after[k]! - (before[k] ?? 0)]));
}
