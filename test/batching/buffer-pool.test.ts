import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import { BufferPool, PoolSizes } from '../../src/batching/buffer-pool';

describe('buffer pool', () => {
  it('rounds a need up to a pooled size by at most 25 %, and a pooled size maps to itself', () => {
    const sizes = new PoolSizes(4096, 4 << 20);
    for (let bytes = 1; bytes <= 4 << 20; bytes += 311) {
      const size = sizes.sizeFor(bytes);
      assert.ok(size >= bytes, `${size} holds ${bytes}`);
      if (bytes > 4096) assert.ok(size <= 1.25 * bytes, `${size} for ${bytes}`);
      assert.equal(sizes.sizeFor(size), size);
      assert.ok(sizes.isPooled(size));
    }
    assert.equal(sizes.sizeFor(5 << 20), 5 << 20, 'beyond the largest: the need itself');
    assert.equal(sizes.isPooled(5 << 20), false);
  });

  it('hands back a released buffer of the same size, and never one of another size', () => {
    const pool = new BufferPool(new PoolSizes(4096, 1 << 20), 1 << 20);
    const a = pool.acquire(10_000);
    const b = pool.acquire(10_000);
    pool.release(a);
    pool.release(b);
    assert.equal(pool.freeCount, 2);
    const again = pool.acquire(10_000);
    assert.ok(again === a || again === b);
    const other = pool.acquire(100_000);
    assert.ok(other !== a && other !== b);
    assert.equal(pool.freeCount, 1);
  });

  it('holds no more than maxFreeBytes while idle', () => {
    const pool = new BufferPool(new PoolSizes(4096, 1 << 20), 50_000);
    const buffers = Array.from({ length: 5 }, () => pool.acquire(16_000));
    for (const buffer of buffers) pool.release(buffer);
    assert.equal(pool.freeCount, Math.floor(50_000 / buffers[0]!.byteLength));
  });

  it('drops detached buffers, sizes it does not hand out, and buffers beyond the largest size', () => {
    const pool = new BufferPool(new PoolSizes(4096, 1 << 20), 64 << 20);
    const transferred = pool.acquire(10_000);
    structuredClone(transferred, { transfer: [transferred] });
    pool.release(transferred);
    pool.release(new ArrayBuffer(4097));
    pool.release(pool.acquire(2 << 20));
    assert.equal(pool.freeCount, 0);
  });
});
