import pino, { type Logger } from 'pino';

export type { Logger };

/** JSON lines on stdout; one logger per process, children carry context such as the request id. */
export function createLogger(level: string): Logger {
  return pino({ level, base: { service: 'sluice' }, timestamp: pino.stdTimeFunctions.isoTime });
}

/**
 * SIGUSR2 re-reads the log level (`readLevel`: the config file's `log.level`, after environment
 * overrides) and applies it without a restart. A config that no longer loads leaves the level as is.
 */
export function reloadLevelOnSigusr2(log: Logger, readLevel: () => string): void {
  process.on('SIGUSR2', () => {
    let level: string;
    try {
      level = readLevel();
    } catch (err) {
      log.warn({ err: (err as Error).message, current: log.level }, 'SIGUSR2: config not re-read; log level unchanged');
      return;
    }
    const from = log.level;
    if (level === from) return;
    // Written under the more verbose of the two levels, so turning logging down is still recorded.
    const quieter = log.levels.values[level]! > log.levelVal;
    if (quieter) log.info({ from, to: level }, 'log level changed');
    log.level = level;
    if (!quieter) log.info({ from, to: level }, 'log level changed');
  });
}

const DEFAULT_INTERVAL_MS = 10_000;

/**
 * Logs at most one line per kind per interval and says how many were suppressed in between, so a
 * flood of bad events costs a few log lines, not one each.
 */
export class RateLimitedLog {
  private readonly last = new Map<string, { at: number; suppressed: number }>();

  constructor(
    private readonly log: Logger,
    private readonly intervalMs = DEFAULT_INTERVAL_MS,
  ) {}

  warn(kind: string, fields: Record<string, unknown>, message: string): void {
    const now = Date.now();
    const state = this.last.get(kind);
    if (state && now - state.at < this.intervalMs) {
      state.suppressed++;
      return;
    }
    this.log.warn({ kind, suppressed: state?.suppressed ?? 0, ...fields }, message);
    this.last.set(kind, { at: now, suppressed: 0 });
  }
}
