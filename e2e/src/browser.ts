import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { chromium, type BrowserContext, type Page } from 'playwright-core';

/** Debian's chromium, installed by the project's setup when missing. */
export const CHROMIUM_PATH = process.env.CHROMIUM_PATH ?? '/usr/bin/chromium';

export const CHROMIUM_FLAGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];

/** Screenshots of the console's pages, kept as test artifacts (the folder is git-ignored). */
export const CONSOLE_ARTIFACTS = resolve(__dirname, '../../.cache/artifacts/console');

export interface Browser {
  readonly context: BrowserContext;
  readonly page: Page;
  screenshot(name: string): Promise<string>;
  close(): Promise<void>;
}

/** A headless chromium with a fresh profile, closed and deleted by close(). */
export async function launchBrowser(): Promise<Browser> {
  const profile = mkdtempSync(join(tmpdir(), 'tocsin-chromium-'));
  const context = await chromium.launchPersistentContext(profile, {
    executablePath: CHROMIUM_PATH,
    headless: true,
    args: CHROMIUM_FLAGS,
    viewport: { width: 1440, height: 900 },
  });
  const page = context.pages()[0] ?? (await context.newPage());
  mkdirSync(CONSOLE_ARTIFACTS, { recursive: true });
  return {
    context,
    page,
    screenshot: async (name) => {
      const file = join(CONSOLE_ARTIFACTS, `${name}.png`);
      await page.screenshot({ path: file, fullPage: true });
      return file;
    },
    close: async () => {
      await context.close();
      rmSync(profile, { recursive: true, force: true });
    },
  };
}
