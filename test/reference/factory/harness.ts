/**
 * One factory world + one in-process `imagekit serve` on 127.0.0.1 (random port) per test file.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { defaultFactoryConfig, startFactoryServer, type FactoryConfig, type FactoryServer } from '../../../src/factory/index.js';
import { hasRegistry } from '../../helpers/registry.js';
import { missingTools } from '../../helpers/tools.js';
import { startFactoryWorld, worldToolsMissing, type FactoryWorld } from './factory-world.js';

export interface Harness {
  world: FactoryWorld;
  server: FactoryServer;
  /** Base URL without the trailing slash. */
  base: string;
  tmp: string;
  config: FactoryConfig;
  /** Registry hosts the service's fetch was asked for (the SSRF guard sits under it). */
  contacted: Set<string>;
  stop(): Promise<void>;
}

/** True (skip) when a tool is missing locally; throws under CI (missingTools). */
export function harnessMissing(...tools: string[]): boolean {
  if (missingTools('docker-registry', ...tools) || !hasRegistry()) return true;
  const f = worldToolsMissing();
  if (f === null) return false;
  if (process.env.CI) throw new Error(`${f} missing under CI (systemd-boot-efi)`);
  return true;
}

export async function startHarness(tune: (c: FactoryConfig) => void = () => {}): Promise<Harness> {
  const world = await startFactoryWorld();
  const tmp = mkdtempSync(join(tmpdir(), 'imagekit-factory-'));
  const config = defaultFactoryConfig();
  config.http.listenAddr = '127.0.0.1:0';
  config.artifacts.registry = world.registry.host;
  config.cache.dir = join(tmp, 'cache');
  tune(config);
  const contacted = new Set<string>();
  const spy: typeof fetch = (input, init) => {
    contacted.add(new URL(typeof input === 'string' || input instanceof URL ? input : input.url).host);
    return fetch(input, init);
  };
  let server: FactoryServer;
  try {
    server = await startFactoryServer({
      config,
      fetch: spy,
      repro: { sourceDateEpoch: 0, seed: 'imagekit' },
      // IMAGEKIT_FACTORY_LOG=1 shows the service's log while debugging a test.
      ...(process.env.IMAGEKIT_FACTORY_LOG ? { log: (level, message, fields) => console.error(`[serve] ${level} ${message} ${fields ? JSON.stringify(fields) : ''}`) } : {}),
    });
  } catch (err) {
    await world.stop();
    throw err;
  }
  return {
    world,
    server,
    base: server.url.replace(/\/$/, ''),
    tmp,
    config,
    contacted,
    stop: async () => {
      await server.close();
      await world.stop();
      rmSync(tmp, { recursive: true, force: true });
    },
  };
}
