import { DocumentBuilder, SwaggerModule } from '@nestjs/swagger';
import { TOCSIN_VERSION } from '@tocsin/contracts';
import type { ServiceDefinition } from '@tocsin/runtime';
import { ApiModule } from './app.module';
import { JsonErrorFilter } from './common/http-exception.filter';
import { serveConsole } from './console/console-static';

export const apiService: ServiceDefinition = {
  name: 'api',
  defaultPort: 8080,
  module: (config) => ApiModule.forRoot(config),
  configure: (app) => {
    app.useGlobalFilters(new JsonErrorFilter());
    const document = SwaggerModule.createDocument(
      app,
      new DocumentBuilder()
        .setTitle('Tocsin control-plane API')
        .setVersion(TOCSIN_VERSION)
        .addBearerAuth({ type: 'http', scheme: 'bearer', description: 'tenant API key, or the admin token for /v1/tenants' })
        .build(),
    );
    SwaggerModule.setup('docs', app, document);
    serveConsole(app);
  },
};

export { ApiModule } from './app.module';
