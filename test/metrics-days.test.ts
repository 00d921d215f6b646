import assert from 'node:assert/strict';
import { addDays, dayInZone, localMinuteInZone, startOfDayInZone } from '../src/metrics/days';

describe('calendar days in the metrics time zone', () => {
  it('gives the local calendar day of an instant, around local midnight and across DST changes', () => {
    const cases: [instant: string, zone: string, day: string, why: string][] = [
      [
        '2026-03-04T07:59:59Z',
        'America/Los_Angeles',
        '2026-03-03',
        '23:59:59 PST, one second before midnight',
      ],
      ['2026-03-04T08:00:00Z', 'America/Los_Angeles', '2026-03-04', '00:00:00 PST, local midnight'],
      ['2026-03-04T07:30:00Z', 'America/Los_Angeles', '2026-03-03', '23:30 PST: already the next UTC day'],
      [
        '2026-03-08T09:59:00Z',
        'America/Los_Angeles',
        '2026-03-08',
        '01:59 PST, just before the spring-forward gap',
      ],
      ['2026-03-08T10:00:00Z', 'America/Los_Angeles', '2026-03-08', '03:00 PDT, just after it'],
      [
        '2026-03-09T06:59:00Z',
        'America/Los_Angeles',
        '2026-03-08',
        '23:59 PDT at the end of the 23-hour day',
      ],
      [
        '2026-03-09T07:00:00Z',
        'America/Los_Angeles',
        '2026-03-09',
        '00:00 PDT: midnight is 7 h from UTC now, not 8',
      ],
      [
        '2026-11-01T08:30:00Z',
        'America/Los_Angeles',
        '2026-11-01',
        '01:30 PDT, first pass of the repeated hour',
      ],
      ['2026-11-01T09:30:00Z', 'America/Los_Angeles', '2026-11-01', '01:30 PST, second pass'],
      [
        '2026-11-02T07:59:00Z',
        'America/Los_Angeles',
        '2026-11-01',
        '23:59 PST at the end of the 25-hour day',
      ],
      ['2026-03-28T23:00:00Z', 'Europe/Berlin', '2026-03-29', '00:00 CET, east of Greenwich'],
      ['2026-03-07T18:29:00Z', 'Asia/Kolkata', '2026-03-07', '23:59 IST, half-hour offset'],
      ['2026-03-07T18:30:00Z', 'Asia/Kolkata', '2026-03-08', '00:00 IST'],
      ['2026-03-07T23:59:59Z', 'UTC', '2026-03-07', 'UTC is the UTC day'],
    ];
    for (const [instant, zone, day, why] of cases) assert.equal(dayInZone(instant, zone), day, why);
  });

  it('finds the first instant of a local day, also on DST days and where midnight does not exist', () => {
    const cases: [day: string, zone: string, start: string][] = [
      ['2026-03-04', 'America/Los_Angeles', '2026-03-04T08:00:00.000Z'],
      ['2026-03-08', 'America/Los_Angeles', '2026-03-08T08:00:00.000Z'], // spring forward at 02:00
      ['2026-03-09', 'America/Los_Angeles', '2026-03-09T07:00:00.000Z'],
      ['2026-11-02', 'America/Los_Angeles', '2026-11-02T08:00:00.000Z'],
      ['2026-03-08', 'Asia/Kolkata', '2026-03-07T18:30:00.000Z'],
      // Chile springs forward at midnight: 23:59:59 -> 01:00, the day starts at 01:00 -03.
      ['2026-09-06', 'America/Santiago', '2026-09-06T04:00:00.000Z'],
    ];
    for (const [day, zone, start] of cases) {
      const at = startOfDayInZone(day, zone);
      assert.equal(new Date(at).toISOString(), start, `${day} in ${zone}`);
      assert.equal(dayInZone(at, zone), day);
      assert.equal(dayInZone(at - 1, zone), addDays(day, -1), `the instant before is the previous day`);
    }
  });

  it('adds calendar days across month and year ends', () => {
    assert.equal(addDays('2026-02-28', 1), '2026-03-01');
    assert.equal(addDays('2026-01-01', -1), '2025-12-31');
    assert.equal(addDays('2026-03-31', -29), '2026-03-02');
  });

  it('shows a local wall-clock minute', () => {
    assert.equal(localMinuteInZone('2026-03-04T07:30:00Z', 'America/Los_Angeles'), '2026-03-03 23:30');
  });
});
