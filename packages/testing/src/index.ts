export * from './mcp-server';
export * from './postgres';
export * from './wait';
export * from './webhook-receiver';
export * from './stateless-mcp-server';
export * from './app-process';
export * from './otlp-receiver';
export * from './pagerduty-stand-in';
