import { slaFigures } from '../src/monitors/sla';

const MIN = 60_000;

describe('the SLA ledger', () => {
  const range = { from: 0, to: 100 * MIN };

  it('counts a silenced outage as downtime, and the silenced part of it apart', () => {
    const figures = slaFigures({
      range,
      incidents: [{ key: 'a', severity: 'P1', from: 10 * MIN, to: 30 * MIN }],
      maintenance: [],
      silences: [{ from: 20 * MIN, to: 60 * MIN, severities: null }],
    });
    expect(figures.downtime_seconds).toBe(20 * 60);
    expect(figures.silenced_seconds).toBe(10 * 60);
    expect(figures.silenced_by_incident.get('a')).toBe(10 * 60);
    expect(figures.availability).toBe(0.8);
  });

  it('silences only the severities a silence names, and never time already excluded as maintenance', () => {
    const figures = slaFigures({
      range,
      incidents: [
        { key: 'p1', severity: 'P1', from: 0, to: 10 * MIN },
        { key: 'p3', severity: 'P3', from: 40 * MIN, to: 50 * MIN },
      ],
      maintenance: [{ from: 45 * MIN, to: 50 * MIN }],
      silences: [{ from: 0, to: 100 * MIN, severities: ['P3'] }],
    });
    expect(figures.silenced_by_incident.get('p1')).toBe(0);
    expect(figures.silenced_by_incident.get('p3')).toBe(5 * 60);
    expect(figures.silenced_seconds).toBe(5 * 60);
    expect(figures.downtime_seconds).toBe(15 * 60);
  });
});
