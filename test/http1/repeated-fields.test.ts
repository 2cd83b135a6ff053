import { describe, expect, it } from 'vitest';
import { ResponseParser, type ResponseSink } from '../../src/http1/response-parser.js';
import { RepeatedFields } from '../../src/http1/repeated-fields.js';
import type { Reason } from '../../src/core/result.js';

/** The header pairs of each head a parser reports. */
class Heads implements ResponseSink {
  readonly heads: string[][] = [];
  private current: string[] = [];
  onHeader(name: string, value: string): void {
    this.current.push(name, value);
  }
  onHead(): void {
    this.heads.push(this.current);
    this.current = [];
  }
  onBody(): void {}
  onEnd(): void {}
  onFail(reason: Reason, message: string): void {
    throw new Error(`${reason}: ${message}`);
  }
}

/** Each response parsed by its own parser sharing `repeats`, from one scratch buffer overwritten each time (as the shared read buffer is). */
function parseAll(responses: string[], repeats: RepeatedFields): string[][] {
  const sink = new Heads();
  const scratch = Buffer.alloc(1024);
  for (const r of responses) {
    scratch.fill(0x7e);
    const n = scratch.write(r, 5, 'latin1');
    new ResponseParser(sink, false, repeats).execute(scratch, 5, 5 + n);
  }
  return sink.heads;
}

function response(headers: string[]): string {
  let s = 'HTTP/1.1 200 OK\r\n';
  for (let i = 0; i < headers.length; i += 2) s += `${headers[i]}: ${headers[i + 1]}\r\n`;
  return `${s}Content-Length: 0\r\n\r\n`;
}

describe('RepeatedFields', () => {
  it('gives every head its own fields, whether they repeat, change, move or differ only in length or case', () => {
    const heads = [
      ['Server', 'nginx', 'Date', 'Tue, 01 Dec 2026 22:00:00 GMT', 'X-Custom', 'a'],
      ['Server', 'nginx', 'Date', 'Tue, 01 Dec 2026 22:00:01 GMT', 'X-Custom', 'a'],
      ['Server', 'nginx', 'Date', 'Tue, 01 Dec 2026 22:00:01 GMT', 'X-Custom', 'ab'],
      ['Date', 'Tue, 01 Dec 2026 22:00:01 GMT', 'Server', 'nginx', 'x-custom', 'A'],
      ['Server', 'nginx/1.22.1', 'X-Other', ''],
      ['Server', '', 'X-Other', 'caf\xe9'],
    ];
    const expected = heads.map((h) => [...h, 'Content-Length', '0']);
    expect(parseAll(heads.map(response), new RepeatedFields())).toEqual(expected);
  });

  it('stays correct past the positions it keeps', () => {
    const many = (v: string): string[] => Array.from({ length: 40 }, (_, i) => [`X-H${i}`, `${v}${i}`]).flat();
    const heads = [many('a'), many('a'), many('b')];
    const parsed = parseAll(heads.map(response), new RepeatedFields());
    expect(parsed).toEqual(heads.map((h) => [...h, 'Content-Length', '0']));
  });
});
