#!/usr/bin/env node
import { parseArgs } from 'node:util';
import { startSluice } from './app';
import { checkConfig } from './check-config';
import { ConfigError, loadConfig } from './config/load';
import { createLogger, reloadLevelOnSigusr2 } from './log';

const USAGE = `usage:
  sluice serve [--config FILE] [--port N]   run the gateway (default config: config/default.yaml)
  sluice check-config FILE                  validate a config and compile every schema it can reach`;

async function main(argv: string[]): Promise<number> {
  const { positionals, values } = parseArgs({
    args: argv,
    allowPositionals: true,
    options: { config: { type: 'string', short: 'c' }, port: { type: 'string', short: 'p' }, help: { type: 'boolean', short: 'h' } },
  });
  const [command, fileArg] = positionals;
  if (values.help || command === undefined) {
    process.stdout.write(USAGE + '\n');
    return command === undefined && !values.help ? 2 : 0;
  }
  const file = values.config ?? fileArg ?? 'config/default.yaml';
  const port = values.port === undefined ? undefined : Number(values.port);
  if (port !== undefined && !(Number.isInteger(port) && port >= 0 && port <= 65535)) throw new ConfigError(`--port ${values.port}: not a port number`);
  const config = loadConfig(file, process.env, { port });
  if (command === 'check-config') {
    const report = await checkConfig(config, process.cwd());
    for (const failure of report.failures) process.stderr.write(`FAIL ${failure}\n`);
    process.stdout.write(`${file}: config valid; ${report.checked} schemas checked, ${report.failures.length} failed\n`);
    return report.failures.length === 0 ? 0 : 1;
  }
  if (command !== 'serve') {
    process.stderr.write(`unknown command ${command}\n${USAGE}\n`);
    return 2;
  }
  const log = createLogger(config.log.level);
  reloadLevelOnSigusr2(log, () => loadConfig(file, process.env, { port }).log.level);
  const running = await startSluice(config, log);
  await new Promise<void>((resolve) => {
    const stop = (signal: NodeJS.Signals) => {
      log.info({ signal }, 'shutting down');
      resolve();
    };
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
  await running.shutdown();
  return 0;
}

main(process.argv.slice(2)).then(
  (code) => process.exit(code),
  (err: Error) => {
    process.stderr.write(`sluice: ${err instanceof ConfigError ? err.message : (err.stack ?? String(err))}\n`);
    process.exit(1);
  },
);
