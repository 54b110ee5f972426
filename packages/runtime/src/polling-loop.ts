import { Logger } from '@nestjs/common';

/**
 * Runs `tick` every `intervalMs`, or at once when nudged; never two ticks at a time.
 * `tick` returns true when it found work, and then runs again straight away.
 */
export class PollingLoop {
  private readonly logger: Logger;
  private timer: NodeJS.Timeout | undefined;
  private running: Promise<void> | undefined;
  private nudged = false;
  private stopped = true;

  constructor(
    name: string,
    private readonly intervalMs: number,
    private readonly tick: () => Promise<boolean>,
  ) {
    this.logger = new Logger(name);
  }

  start(): void {
    this.stopped = false;
    this.schedule(0);
  }

  nudge(): void {
    if (this.running) this.nudged = true;
    else this.schedule(0);
  }

  private schedule(delayMs: number): void {
    if (this.stopped) return;
    clearTimeout(this.timer);
    this.timer = setTimeout(() => {
      this.running = this.runOnce().then((more) => {
        this.running = undefined;
        const again = more || this.nudged;
        this.nudged = false;
        this.schedule(again ? 0 : this.intervalMs);
      });
    }, delayMs);
  }

  private async runOnce(): Promise<boolean> {
    try {
      return await this.tick();
    } catch (err) {
      this.logger.error(`tick failed, retrying in ${this.intervalMs} ms: ${(err as Error).message}`);
      return false;
    }
  }

  async stop(): Promise<void> {
    this.stopped = true;
    clearTimeout(this.timer);
    await this.running;
  }
}
