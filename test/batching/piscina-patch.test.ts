/**
 * scripts/patches/piscina-worker-interface.patch: piscina offers the load balancer one interface object
 * per worker, the same on every task, whose getters read the worker live. (A new object per worker
 * per task made V8 promote ~300 KB per young-generation collection on Sluice's HTTP thread.)
 */
import assert from 'node:assert/strict';
import * as fs from 'node:fs';
import * as os from 'node:os';
import * as path from 'node:path';
import { after, describe, it } from 'node:test';
import Piscina from 'piscina';

type Balancer = NonNullable<NonNullable<ConstructorParameters<typeof Piscina>[0]>['loadBalancer']>;
type WorkerView = Parameters<Balancer>[1][number];

describe('piscina worker interfaces (the dependency patch)', () => {
  const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'sluice-piscina-'));
  const workerFile = path.join(dir, 'sleep.js');
  fs.writeFileSync(workerFile, 'module.exports = (ms) => new Promise((resolve) => setTimeout(() => resolve(ms), ms));\n');
  after(() => fs.rmSync(dir, { recursive: true, force: true }));

  it('offers the same object per worker on every task, with the usage read live', async () => {
    /** Per balancer call: each worker's object and the usage it reported then. */
    const offers: Array<Array<{ view: WorkerView; usage: number }>> = [];
    const pool = new Piscina({
      filename: workerFile,
      minThreads: 2,
      maxThreads: 2,
      concurrentTasksPerWorker: 2,
      idleTimeout: Infinity,
      loadBalancer: (_task, workers) => {
        offers.push(workers.map((view) => ({ view, usage: view.currentUsage })));
        return workers.find((view) => view.currentUsage < 2) ?? null;
      },
    });
    try {
      // Until both workers are up and offered.
      for (let tries = 0; tries < 100 && (offers.at(-1)?.length ?? 0) < 2; tries++) {
        await pool.run(0);
        await new Promise((resolve) => setTimeout(resolve, 20));
      }
      offers.length = 0;
      const long = pool.run(100);
      const short = pool.run(1);
      await Promise.all([long, short]);
      await pool.run(0);

      assert.equal(offers.length, 3);
      for (const offer of offers) assert.equal(offer.length, 2);
      const [first, second, third] = offers as [(typeof offers)[0], (typeof offers)[0], (typeof offers)[0]];
      for (let w = 0; w < 2; w++) {
        assert.equal(second[w]!.view, first[w]!.view, 'the same object on the next task');
        assert.equal(third[w]!.view, first[w]!.view, 'and on a later one');
      }
      assert.equal(first[0]!.usage, 0);
      assert.equal(second[0]!.usage, 1, 'the long task shows in the same object');
      assert.equal(third[0]!.usage, 0, 'and is gone once it finished');
    } finally {
      await pool.destroy();
    }
  });
});
