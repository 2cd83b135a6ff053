import { describe, expect, it } from 'vitest';
import { normalisedValue, parsePerfdata, parsePluginOutput, perfMetrics, sanitizeLabel, statusOfExitCode, type PerfDatum } from '../../src/checks/nagios.js';

/** Metrics of one plugin output, as the exec check would report them. */
function metricsOf(stdout: string): Record<string, number> {
  return perfMetrics(parsePluginOutput(stdout).perfdata);
}

describe('nagios exit codes', () => {
  it.each([
    [0, 'HEALTHY', 'ok'],
    [1, 'DEGRADED', 'plugin_warning'],
    [2, 'UNHEALTHY', 'plugin_critical'],
    [3, 'UNKNOWN', 'plugin_unknown'],
    [4, 'UNKNOWN', 'plugin_unknown'],
    [127, 'UNKNOWN', 'plugin_unknown'],
    [255, 'UNKNOWN', 'plugin_unknown'],
  ])('maps exit %i to %s %s', (code, status, reason) => {
    expect(statusOfExitCode(code)).toEqual({ status, reason });
  });
});

describe('nagios plugin output', () => {
  it('takes the text of the first line before "|" and trims it', () => {
    const out = parsePluginOutput('TCP OK - 0.000 second response time on 127.0.0.1 port 80|time=0.000236s;;;0.000000;10.000000\n');
    expect(out.text).toBe('TCP OK - 0.000 second response time on 127.0.0.1 port 80');
    expect(out.longText).toEqual([]);
    expect(out.perfdata).toEqual([{ label: 'time', value: 0.000236, unit: 's', min: 0, max: 10 }]);
  });

  it('reads perfdata from the first line and from the long output after its first "|"', () => {
    const stdout = [
      'DISK OK - free space: / 3326 MB (56%); | /=2643MB;5948;5958;0;5968',
      '/ 15272 MB (77%);',
      '/boot 68 MB (69%); | /boot=68MB;88;93;0;98',
      '/home=69357MB;253404;253409;0;253414',
      "'/var/log'=818MB;970;975;0;980",
    ].join('\n');
    const out = parsePluginOutput(stdout);
    expect(out.text).toBe('DISK OK - free space: / 3326 MB (56%);');
    expect(out.longText).toEqual(['/ 15272 MB (77%);', '/boot 68 MB (69%); ']);
    expect(out.perfdata.map((d) => d.label)).toEqual(['/', '/boot', '/home', '/var/log']);
    expect(metricsOf(stdout)).toEqual({
      root: 2643 * 1024 ** 2,
      boot: 68 * 1024 ** 2,
      home: 69357 * 1024 ** 2,
      var_log: 818 * 1024 ** 2,
    });
  });

  it('handles CRLF line ends and output with no perfdata or no text', () => {
    expect(parsePluginOutput('OK all fine\r\nmore\r\n')).toEqual({ text: 'OK all fine', longText: ['more'], perfdata: [] });
    expect(parsePluginOutput('')).toEqual({ text: '', longText: [], perfdata: [] });
    expect(parsePluginOutput('|a=1').perfdata).toEqual([{ label: 'a', value: 1, unit: '' }]);
  });

  // Real outputs of Debian's monitoring-plugins 2.3 on this machine.
  it.each([
    ['check_tcp', 'TCP OK - 0.000 second response time on 127.0.0.1 port 18089|time=0.000236s;;;0.000000;10.000000', { time: 0.000236 }],
    [
      'check_http',
      'HTTP OK: HTTP/1.0 200 OK - 932 bytes in 0.003 second response time |time=0.002870s;;;0.000000;10.000000 size=932B;;;0;',
      { time: 0.00287, size: 932 },
    ],
    ['check_procs', 'PROCS OK: 103 processes | procs=103;1000;;0;', { procs: 103 }],
    ['check_users', 'USERS OK - 0 users currently logged in |users=0;10;20;0', { users: 0 }],
    [
      'check_load',
      'LOAD OK - total load average: 3.70, 2.47, 1.32|load1=3.700;5.000;10.000;0; load5=2.470;5.000;10.000;0; load15=1.320;5.000;10.000;0; ',
      { load1: 3.7, load5: 2.47, load15: 1.32 },
    ],
    ['check_disk', 'DISK OK - free space: / 80816MiB (77% inode=97%);| /=24201134080B;267847005634;270552530944;0;270552530944', { root: 24201134080 }],
    ['check_swap', 'SWAP CRITICAL - 0% free (0MB out of 0MB) - Swap is either disabled, not present, or of zero size. |swap=0B;0;0;0;0', { swap: 0 }],
  ])('parses real %s output', (_plugin, stdout, metrics) => {
    expect(metricsOf(stdout)).toEqual(metrics);
  });
});

describe('nagios perfdata items', () => {
  const one = (text: string): PerfDatum | undefined => parsePerfdata(text, [])[0];

  it.each<[string, Partial<PerfDatum>]>([
    ['time=0.2s;1;2;0;10', { label: 'time', value: 0.2, unit: 's', warn: '1', crit: '2', min: 0, max: 10 }],
    ["'disk /'=45%", { label: 'disk /', value: 45, unit: '%' }],
    ["'it''s'=1", { label: "it's", value: 1, unit: '' }],
    ['bytes=12c', { label: 'bytes', value: 12, unit: 'c' }],
    ['x=-3.5e2ms', { label: 'x', value: -350, unit: 'ms' }],
    ['x=.5', { label: 'x', value: 0.5, unit: '' }],
    ['x=0,25s', { label: 'x', value: 0.25, unit: 's' }],
    ['load=1;@10:20;~:5', { warn: '@10:20', crit: '~:5' }],
    ['used=3TB;;;0;8', { value: 3, unit: 'TB', min: 0, max: 8 }],
  ])('parses %s', (text, expected) => {
    expect(one(text)).toMatchObject(expected);
  });

  it.each([
    ['seconds', 'a=2s', 2],
    ['milliseconds', 'a=250ms', 0.25],
    ['microseconds', 'a=500us', 0.0005],
    ['bytes', 'a=10B', 10],
    ['kilobytes (1024)', 'a=2KB', 2048],
    ['megabytes', 'a=1.5MB', 1.5 * 1024 ** 2],
    ['gigabytes', 'a=1GB', 1024 ** 3],
    ['terabytes', 'a=1TB', 1024 ** 4],
    ['percent (as written)', 'a=45%', 45],
    ['counter (as written)', 'a=123456c', 123456],
    ['no unit', 'a=7', 7],
    ['an unknown unit (as written)', 'a=7furlongs', 7],
  ])('normalises %s', (_what, text, value) => {
    expect(normalisedValue(one(text) as PerfDatum)).toBeCloseTo(value, 12);
  });

  it.each([
    ['no equals sign', 'garbage'],
    ['no value', 'a='],
    ['undetermined value', 'a=U;1;2'],
    ['text value', 'a=abc'],
    ['two numbers', 'a=1.2.3'],
    ['empty quoted label', "''=3"],
    ['unterminated quote', "'abc=3"],
    ['quoted label without =', "'abc' 3"],
    ['lone semicolons', ';;;;'],
    ['infinite', 'a=1e999'],
  ])('skips a malformed item (%s) without throwing', (_what, text) => {
    expect(parsePerfdata(text, [])).toEqual([]);
  });

  it('keeps the good items around malformed ones', () => {
    const items = parsePerfdata("a=1 junk b=U 'c d'=2s e= f=3%;;;;", []);
    expect(items.map((d) => [d.label, d.value])).toEqual([
      ['a', 1],
      ['c d', 2],
      ['f', 3],
    ]);
  });

  it('ignores non-numeric min/max but keeps the value', () => {
    expect(one('a=1;;;x;y')).toEqual({ label: 'a', value: 1, unit: '' });
  });

  it('never throws on random bytes', () => {
    let seed = 42;
    const rnd = (): number => {
      seed = (seed * 1103515245 + 12345) & 0x7fffffff;
      return seed / 0x7fffffff;
    };
    const alphabet = "ab=;'| \n\t.,-+e0123456789%sBUc\r";
    for (let i = 0; i < 2000; i++) {
      let s = '';
      const len = Math.floor(rnd() * 60);
      for (let j = 0; j < len; j++) s += alphabet[Math.floor(rnd() * alphabet.length)];
      const out = parsePluginOutput(s);
      for (const v of Object.values(perfMetrics(out.perfdata))) expect(Number.isFinite(v)).toBe(true);
    }
  });
});

describe('nagios metric names', () => {
  it.each([
    ['time', 'time'],
    ['/', 'root'],
    ['/var/log', 'var_log'],
    ['disk /', 'disk'],
    ['rta ms', 'rta_ms'],
    ['__proto__', 'proto'],
    ['%%', 'metric'],
  ])('sanitises %j to %j', (label, key) => {
    expect(sanitizeLabel(label)).toBe(key);
  });

  it('suffixes labels that collide', () => {
    expect(metricsOf('x|a=1 a=2 /a=3')).toEqual({ a: 1, a_2: 2, a_3: 3 });
  });

  it('does not treat Object.prototype names as taken', () => {
    expect(metricsOf('x|constructor=1 toString=2')).toEqual({ constructor: 1, toString: 2 });
  });
});
