import { ConfigError, loadConfig } from '../src';

describe('loadConfig', () => {
  it('applies defaults', () => {
    const config = loadConfig({});
    expect(config.KAFKA_BROKERS).toEqual(['127.0.0.1:9092']);
    expect(config.TOCSIN_ALLOW_PRIVATE_URLS).toBe(false);
  });

  it('splits broker lists and parses booleans', () => {
    const config = loadConfig({ KAFKA_BROKERS: 'a:1, b:2', TOCSIN_ALLOW_PRIVATE_URLS: 'true' });
    expect(config.KAFKA_BROKERS).toEqual(['a:1', 'b:2']);
    expect(config.TOCSIN_ALLOW_PRIVATE_URLS).toBe(true);
  });

  it('names the bad variable', () => {
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(ConfigError);
    expect(() => loadConfig({ PORT: 'eighty' })).toThrow(/PORT/);
  });
});
