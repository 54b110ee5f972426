import { classifyFailure, type FailureEvidence } from '../src/classify-failure';
import type { StepRecord } from '../src/step-recorder';

function evidence(step: Partial<StepRecord> & Pick<StepRecord, 'step'>, rest: Partial<FailureEvidence> = {}): FailureEvidence {
  return {
    step: { startedAt: 0, ...step },
    transport: 'streamable-http',
    timedOut: false,
    timeoutMs: 1_000,
    answered: step.http_status !== undefined,
    cause: new Error('boom'),
    ...rest,
  };
}

describe('classifyFailure', () => {
  it('puts a timeout before any HTTP answer in transport', () => {
    const result = classifyFailure(evidence({ step: 'initialize' }, { timedOut: true, answered: false }));
    expect(result).toMatchObject({ layer: 'transport', error: expect.stringContaining('no HTTP response') });
  });

  it('puts a timeout after the server answered in the layer of the step in progress', () => {
    const result = classifyFailure(evidence({ step: 'tools/list' }, { timedOut: true, answered: true }));
    expect(result.layer).toBe('tools_list');
  });

  it('treats a 2xx with the wrong content type as http', () => {
    const result = classifyFailure(evidence({ step: 'initialize', http_status: 200, content_type: 'text/html' }));
    expect(result).toMatchObject({ layer: 'http', http_status: 200 });
  });

  it('accepts any content type on a 202 and on legacy SSE POSTs', () => {
    expect(classifyFailure(evidence({ step: 'initialized', http_status: 202 })).layer).toBe('initialize');
    const legacy = evidence({ step: 'tools/list', http_status: 202 }, { transport: 'sse' });
    expect(classifyFailure(legacy).layer).toBe('tools_list');
  });

  it('requires an event stream from the legacy SSE connect', () => {
    const result = classifyFailure(evidence({ step: 'sse-connect', http_status: 200, content_type: 'text/html' }));
    expect(result.layer).toBe('http');
  });

  it('puts a malformed initialize result (HTTP fine, no JSON-RPC error) in initialize', () => {
    const result = classifyFailure(
      evidence({ step: 'initialize', http_status: 200, content_type: 'application/json; charset=utf-8' }),
    );
    expect(result).toMatchObject({ layer: 'initialize', error: 'initialize failed: boom' });
  });
});
