import { PollingLoop } from '../src';
import { ReadinessRegistry } from '../src';

describe('PollingLoop', () => {
  it('runs again at once while there is work, then waits for the interval or a nudge', async () => {
    let work = 3;
    let ticks = 0;
    let idle!: () => void;
    const settled = new Promise<void>((resolve) => (idle = resolve));
    const loop = new PollingLoop('test', 60_000, async () => {
      ticks++;
      if (work <= 0) idle();
      return work-- > 0;
    });
    loop.start();
    await settled;
    expect(ticks).toBe(4);
    const nudged = new Promise<void>((resolve) => (idle = resolve));
    loop.nudge();
    await nudged;
    expect(ticks).toBe(5);
    await loop.stop();
  });

  it('survives a failing tick', async () => {
    let calls = 0;
    let done!: () => void;
    const second = new Promise<void>((resolve) => (done = resolve));
    const loop = new PollingLoop('test', 10, async () => {
      if (++calls === 1) throw new Error('boom');
      done();
      return false;
    });
    loop.start();
    await second;
    await loop.stop();
    expect(calls).toBeGreaterThanOrEqual(2);
  });
});

describe('ReadinessRegistry', () => {
  it('is ready only when every check passes and it is not draining', async () => {
    const registry = new ReadinessRegistry();
    let consumerJoined = false;
    registry.register('consumer', () => consumerJoined);
    registry.register('database', async () => {
      throw new Error('down');
    });
    expect(await registry.evaluate()).toEqual({ ready: false, checks: { accepting_traffic: true, consumer: false, database: false } });
    consumerJoined = true;
    registry.register('database', async () => true);
    expect((await registry.evaluate()).ready).toBe(true);
    registry.startDraining();
    expect(await registry.evaluate()).toMatchObject({ ready: false, checks: { accepting_traffic: false } });
  });
});
