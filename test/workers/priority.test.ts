/**
 * pool.worker_nice: the worker threads rank below the HTTP thread for the CPU (Linux), so waking a
 * worker does not preempt the thread every request passes through. Read back from the kernel.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import fs from 'node:fs';
import { getPriority } from 'node:os';
import { startSluice, useSluice } from '../helpers/server';
import { postEvents } from '../helpers/http';
import { testEvent } from '../helpers/events';

/** Nice value of every thread of `pid`, by thread id (proc(5): field 19 of /proc/<pid>/task/<tid>/stat). */
function threadNiceValues(pid: number): Map<number, number> {
  const values = new Map<number, number>();
  for (const tid of fs.readdirSync(`/proc/${pid}/task`)) {
    const stat = fs.readFileSync(`/proc/${pid}/task/${tid}/stat`, 'utf8');
    // Fields after the parenthesised command name, which may itself hold spaces.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    values.set(Number(tid), Number(fields[16]));
  }
  return values;
}

/** Threads of `pid` at each nice value. */
function countByNice(pid: number): Map<number, number> {
  const counts = new Map<number, number>();
  for (const nice of threadNiceValues(pid).values()) counts.set(nice, (counts.get(nice) ?? 0) + 1);
  return counts;
}

/** The server inherits the test runner's nice value; the workers' is relative to it. */
const inherited = getPriority();

const linuxOnly = { skip: process.platform !== 'linux' && 'thread priorities are only changed on Linux' };

describe('pool.worker_nice', linuxOnly, () => {
  describe('set to 7 with 2 threads', () => {
    const s = useSluice({ config: { pool: { threads: 2, worker_nice: 7 } } });

    it('lowers exactly the two worker threads, not the HTTP thread', async () => {
      const r = await postEvents(s.url, testEvent()); // the workers have run a task
      assert.equal(r.status, 201, r.text);
      const pid = s.proc.pid!;
      const nice = threadNiceValues(pid);
      assert.equal(nice.get(pid), inherited, 'the main (HTTP) thread keeps its priority');
      assert.equal(countByNice(pid).get(Math.min(19, inherited + 7)), 2, `thread nice values: ${JSON.stringify([...nice])}`);
    });
  });

  describe('set to 0', () => {
    const s = useSluice({ config: { pool: { threads: 2, worker_nice: 0 } } });

    it('leaves every thread at the priority it started with', async () => {
      const r = await postEvents(s.url, testEvent());
      assert.equal(r.status, 201, r.text);
      assert.deepEqual([...countByNice(s.proc.pid!).keys()], [inherited]);
    });
  });

  it('refuses a value outside 0–19', async () => {
    await assert.rejects(startSluice({ config: { pool: { worker_nice: 20 } } }), /worker_nice/);
  });
});
