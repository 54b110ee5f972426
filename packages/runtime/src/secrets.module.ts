import { Global, Module } from '@nestjs/common';
import { ConfigError, type TocsinConfig } from '@tocsin/config';
import { SecretBox } from '@tocsin/secrets';
import { TOCSIN_CONFIG } from './config.module';

/**
 * The SecretBox that seals secrets at rest, for the apps that store or read them (api,
 * dispatcher, probe-ingest). Importing it without TOCSIN_ENCRYPTION_KEY stops start-up.
 */
@Global()
@Module({
  providers: [
    {
      provide: SecretBox,
      inject: [TOCSIN_CONFIG],
      useFactory: (config: TocsinConfig) => {
        if (!config.TOCSIN_ENCRYPTION_KEY) {
          throw new ConfigError('Invalid configuration:\n  TOCSIN_ENCRYPTION_KEY: required to seal secrets at rest');
        }
        try {
          return SecretBox.fromEnv(config.TOCSIN_ENCRYPTION_KEY);
        } catch (err) {
          throw new ConfigError(`Invalid configuration:\n  TOCSIN_ENCRYPTION_KEY: ${(err as Error).message}`);
        }
      },
    },
  ],
  exports: [SecretBox],
})
export class SecretsModule {}
