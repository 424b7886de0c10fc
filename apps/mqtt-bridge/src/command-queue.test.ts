import { describe, expect, it } from 'vitest';
import { CommandQueue } from './command-queue.ts';

describe('CommandQueue', () => {
  it('runs one at a time, coalesces a waiting kind (latest wins) and refuses when full', async () => {
    const ran: string[] = [];
    let release: () => void = () => undefined;
    const gate = new Promise<void>((resolve) => {
      release = resolve;
    });
    const queue = new CommandQueue<string>(2, async (item) => {
      ran.push(item);
      if (item === 'limit=60') await gate;
    });
    expect(queue.enqueue('limit', 'limit=60')).toEqual({ accepted: true });
    await Promise.resolve(); // the first one starts running
    expect(queue.enqueue('limit', 'limit=70')).toEqual({ accepted: true });
    expect(queue.enqueue('limit', 'limit=80')).toEqual({ accepted: true, replaced: 'limit=70' });
    expect(queue.enqueue('lock', 'lock')).toEqual({ accepted: true });
    expect(queue.enqueue('charging', 'charging')).toEqual({ accepted: false, reason: 'full' });
    expect(queue.waiting).toBe(2);
    release();
    await queue.idle();
    expect(ran).toEqual(['limit=60', 'limit=80', 'lock']);
  });

  it('keeps running after a command throws', async () => {
    const ran: string[] = [];
    const queue = new CommandQueue<string>(3, (item) => {
      ran.push(item);
      return item === 'bad' ? Promise.reject(new Error('boom')) : Promise.resolve();
    });
    queue.enqueue('a', 'bad');
    queue.enqueue('b', 'good');
    await queue.idle();
    expect(ran).toEqual(['bad', 'good']);
  });
});
