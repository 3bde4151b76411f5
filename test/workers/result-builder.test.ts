/**
 * The worker encodes each message's value and key to UTF-8 as it comes, into a buffer it reuses from
 * task to task (workers/utf8-appender.ts). Every message must read back exactly, whatever its
 * characters, however much the buffer had to grow, and whatever an earlier task left in it.
 */
import { describe, it } from 'node:test';
import * as assert from 'node:assert/strict';
import { MESSAGE_EVENT, MESSAGE_FIELDS, MessageField, TaskResult } from '../../src/batching/wire';
import { ResultBuilder } from '../../workers/result-builder';
import { Utf8Appender } from '../../workers/utf8-appender';

interface Message {
  readonly value: string;
  readonly key: string | null;
}

function build(messages: Message[], payload: Utf8Appender): TaskResult {
  const out = new ResultBuilder(1, payload);
  messages.forEach((m, i) => out.message(0, i, 'topic', m.value, m.key, 1000 + i, MESSAGE_EVENT, 'stream'));
  return new TaskResult(out.build());
}

function readBack(result: TaskResult): Message[] {
  const text = (start: number, end: number) => result.payload.subarray(start, end).toString('utf8');
  const messages: Message[] = [];
  for (let m = 0; m < result.timestamps.length; m++) {
    const at = m * MESSAGE_FIELDS;
    const keyStart = result.messages[at + MessageField.KeyStart]!;
    messages.push({
      value: text(result.messages[at + MessageField.ValueStart]!, result.messages[at + MessageField.ValueEnd]!),
      key: keyStart === -1 ? null : text(keyStart, result.messages[at + MessageField.KeyEnd]!),
    });
  }
  return messages;
}

describe('result payload encoding', () => {
  it('values and keys of any characters read back exactly, keyed and unkeyed in any order', () => {
    const messages: Message[] = [
      { value: '{"a":1}', key: null },
      { value: '{"name":"Zoë","city":"Kraków"}', key: '{"id":"é"}' },
      { value: '{"emoji":"🎉🚀","cjk":"日本語"}', key: null },
      { value: '{"lone":"\ud800"}', key: '{"k":"\udfff"}' },
      { value: '', key: '' },
    ];
    const expected = messages.map((m) => ({ value: Buffer.from(m.value).toString(), key: m.key === null ? null : Buffer.from(m.key).toString() }));
    assert.deepEqual(readBack(build(messages, new Utf8Appender())), expected);
  });

  it('a task larger than the reused buffer grows it, and the next task does not see the last one', () => {
    const payload = new Utf8Appender();
    const big = Array.from({ length: 300 }, (_, i) => ({ value: JSON.stringify({ i, text: `ü${i}`.padEnd(1000, 'ß') }), key: `{"i":${i}}` }));
    assert.deepEqual(readBack(build(big, payload)), big);
    const small = [{ value: '{"second":"task"}', key: null }];
    const result = build(small, payload);
    assert.deepEqual(readBack(result), small);
    assert.equal(result.payload.length, Buffer.byteLength(small[0]!.value), 'the payload holds only this task');
  });

  it('a message whose worst case does not fit is written whole after growing', () => {
    const payload = new Utf8Appender();
    const value = '€'.repeat(100_000); // 300,000 bytes: past the initial buffer at once
    assert.deepEqual(readBack(build([{ value: 'x', key: null }, { value, key: null }], payload)), [
      { value: 'x', key: null },
      { value, key: null },
    ]);
  });
});
