/**
 * DESIGN.md §3: the config is validated at start-up (an unknown key or a wrong type stops the start with
 * a message naming the key), keys are overridable from the environment, and `sluice check-config`
 * validates a config and compiles every schema under its file bases.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { spawnSync } from 'node:child_process';
import * as path from 'node:path';
import { startSluice, makeTempDir, writeYaml, baseConfig, deepMerge, inheritedEnv, REPO_ROOT } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { testEvent, assertProblem } from '../helpers/events';
import { ConfigError, loadConfig } from '../../src/config/load';

function checkConfig(config: Record<string, unknown>): { status: number | null; output: string } {
  const dir = makeTempDir();
  const file = writeYaml(path.join(dir, 'sluice.yaml'), deepMerge(baseConfig(path.join(dir, 'events')), config));
  const r = spawnSync(process.execPath, [path.join(REPO_ROOT, 'dist/src/cli.js'), 'check-config', file], { cwd: REPO_ROOT, env: inheritedEnv(), encoding: 'utf8', timeout: 60_000 });
  return { status: r.status, output: `${r.stdout}\n${r.stderr}` };
}

describe('§3 configuration', () => {
  describe('validated at start-up', () => {
    it('an unknown key stops the start with a message naming the key', async () => {
      await assert.rejects(startSluice({ config: { limits: { max_body_bytez: 5 } } }), /max_body_bytez/);
    });

    it('a wrong type stops the start with a message naming the key', async () => {
      await assert.rejects(startSluice({ config: { limits: { max_body_bytes: 'lots' } } }), /max_body_bytes/);
    });

    it('an in-flight budget smaller than the largest body stops the start, naming both limits', async () => {
      // A start that wrongly succeeds is stopped, so the failure is this assertion, not a server left running.
      const started = startSluice({ config: { limits: { max_body_bytes: 2048, max_inflight_bytes: 1024 } } }).then((s) => s.stop());
      await assert.rejects(
        started,
        /limits\.max_inflight_bytes \(1024\) is smaller than limits\.max_body_bytes \(2048\)/,
      );
    });
  });

  describe('environment overrides', () => {
    it('SLUICE_LIMITS_MAX_BODY_BYTES overrides limits.max_body_bytes', async () => {
      const s = await startSluice({ env: { SLUICE_LIMITS_MAX_BODY_BYTES: '1000' } });
      try {
        const r = await postEvents(s.url, testEvent({ test: 'x'.repeat(2000) }));
        const p = assertProblem(r, 413, 'PayloadTooLarge');
        assert.equal(p.max_body_bytes, 1000);
      } finally {
        await s.stop();
      }
    });

    const configFile = (): string => {
      const dir = makeTempDir();
      return writeYaml(path.join(dir, 'sluice.yaml'), baseConfig(path.join(dir, 'events')));
    };

    it('ignores the service links Kubernetes injects for a Service named sluice or sluice-*', () => {
      const config = loadConfig(configFile(), {
        SLUICE_SERVICE_HOST: '10.0.0.7',
        SLUICE_SERVICE_PORT: '8192',
        SLUICE_SERVICE_PORT_HTTP: '8192',
        SLUICE_PORT: 'tcp://10.0.0.7:8192',
        SLUICE_PORT_8192_TCP: 'tcp://10.0.0.7:8192',
        SLUICE_PORT_8192_TCP_PROTO: 'tcp',
        SLUICE_PORT_8192_TCP_PORT: '8192',
        SLUICE_PORT_8192_TCP_ADDR: '10.0.0.7',
        SLUICE_CANARY_SERVICE_HOST: '10.0.0.8',
        SLUICE_CANARY_PORT: 'tcp://10.0.0.8:8192',
        SLUICE_LISTEN_PORT: '9100',
      });
      assert.equal(config.listen.port, 9100);
    });

    it('still refuses a misspelt key, naming the variable, even when it ends in _PORT', () => {
      assert.throws(() => loadConfig(configFile(), { SLUICE_LISTN_PORT: '9000' }), (err: Error) => err instanceof ConfigError && /SLUICE_LISTN_PORT names no config key/.test(err.message));
      assert.throws(() => loadConfig(configFile(), { SLUICE_LIMITS_MAX_BODY_BYTE: '10' }), /SLUICE_LIMITS_MAX_BODY_BYTE/);
    });
  });

  describe('sluice check-config', () => {
    it('accepts the default config and compiles every bundled schema', () => {
      const r = checkConfig({});
      assert.equal(r.status, 0, r.output);
    });

    it('fails on a schema under a file base that does not compile, naming it', () => {
      const base = makeTempDir('sluice-badbase-');
      writeYaml(path.join(base, 'bad/thing/1.0.0.yaml'), { title: 'bad/thing', $id: '/bad/thing/1.0.0', type: 'not-a-type' });
      const r = checkConfig({ schemas: { base_uris: [`file:${base}/`, 'file:schemas/'] } });
      assert.notEqual(r.status, 0, r.output);
      assert.match(r.output, /bad[/\\]thing/);
    });

    it('fails on an invalid config, naming the key', () => {
      const r = checkConfig({ sink: { type: 'carrier-pigeon' } });
      assert.notEqual(r.status, 0);
      assert.match(r.output, /sink\.type|type/);
    });
  });
});
