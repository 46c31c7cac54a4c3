import { describe, expect, it } from 'vitest';
import { formatCidr, formatCidrForPostfix, networkOf, parseCidr } from '../../entrypoint/config/cidr.js';
import type { Cidr } from '../../entrypoint/config/cidr.js';

function parsed(text: string): Cidr {
  const cidr = parseCidr(text);
  if (cidr === undefined) throw new Error(`test setup: ${text} did not parse`);
  return cidr;
}

function normalised(text: string): string {
  return formatCidr(networkOf(parsed(text)));
}

describe('parseCidr', () => {
  it.each([
    ['10.0.0.0/8', { family: 4, address: '10.0.0.0', prefix: 8 }],
    ['192.168.1.0/24', { family: 4, address: '192.168.1.0', prefix: 24 }],
    ['0.0.0.0/0', { family: 4, address: '0.0.0.0', prefix: 0 }],
    ['10.1.2.3/32', { family: 4, address: '10.1.2.3', prefix: 32 }],
    ['fd00::/64', { family: 6, address: 'fd00::', prefix: 64 }],
    ['::1/128', { family: 6, address: '::1', prefix: 128 }],
    ['::/0', { family: 6, address: '::', prefix: 0 }],
    ['2001:db8:0:1::5/48', { family: 6, address: '2001:db8:0:1::5', prefix: 48 }],
  ])('parses %s', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it('keeps host bits as written (networkOf drops them)', () => {
    expect(parseCidr('172.17.0.2/16')).toEqual({ family: 4, address: '172.17.0.2', prefix: 16 });
  });

  it.each([
    ['192.168.1.10', { family: 4, address: '192.168.1.10', prefix: 32 }],
    ['::1', { family: 6, address: '::1', prefix: 128 }],
    ['fd00::1234', { family: 6, address: 'fd00::1234', prefix: 128 }],
  ])('reads the bare address %s as a host route', (text, expected) => {
    expect(parseCidr(text)).toEqual(expected);
  });

  it.each([
    '10.0.0.0/33',
    '::/129',
    '10.0.0.0/',
    '10.0.0.0/-1',
    '10.0.0.0/+8',
    '10.0.0.0/8a',
    '10.0.0.0/0x8',
    '10.0.0.0/1e1',
    '10.0.0.0/8.0',
    '10.0.0.0/ 8',
    '10.0.0.0/1000',
    '10.0.0.0/8/8',
    'fd00::/64/64',
  ])('refuses the bad prefix in %s', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });

  it.each([
    '',
    '/8',
    'localhost',
    'localhost/8',
    'example.com/24',
    '10.0.0',
    '10.0.0/8',
    '256.0.0.0/8',
    '10.0.0.0.0/8',
    '10.0.0.0 /8',
    ' 10.0.0.0/8',
    '10.0.0.0/8,',
    'fd00:::1/64',
    'fd00::1::2/64',
    '[fd00::]/64',
    '1:2:3:4:5:6:7:8:9/128',
    'gggg::/16',
    'any',
  ])('refuses the garbage %j', (text) => {
    expect(parseCidr(text)).toBeUndefined();
  });
});

describe('networkOf', () => {
  it.each([
    ['172.17.0.2/16', '172.17.0.0/16'],
    ['10.1.2.3/8', '10.0.0.0/8'],
    ['192.168.1.130/25', '192.168.1.128/25'],
    ['192.168.1.255/31', '192.168.1.254/31'],
    ['10.1.2.3/32', '10.1.2.3/32'],
    ['10.1.2.3/0', '0.0.0.0/0'],
    ['255.255.255.255/1', '128.0.0.0/1'],
    ['192.168.1.10', '192.168.1.10/32'],
  ])('IPv4 %s → %s', (input, expected) => {
    expect(normalised(input)).toBe(expected);
  });

  it.each([
    ['fd00::1234/64', 'fd00::/64'],
    ['2001:db8:0:1::5/48', '2001:db8::/48'],
    ['2001:db8:0:1::5/64', '2001:db8:0:1::/64'],
    ['fd00::ffff/121', 'fd00::ff80/121'],
    ['2001:db8::1/128', '2001:db8::1/128'],
    ['fd00::1/0', '::/0'],
    ['::1/128', '::1/128'],
    ['::/0', '::/0'],
    ['fd00::1', 'fd00::1/128'],
  ])('IPv6 %s → %s', (input, expected) => {
    expect(normalised(input)).toBe(expected);
  });

  it.each([
    ['FD00::ABCD/64', 'fd00::/64'],
    ['2001:0db8:0000:0000:0000:0000:0000:0001/128', '2001:db8::1/128'],
    ['2001:db8:0:0:1:0:0:1/128', '2001:db8::1:0:0:1/128'],
    ['2001:db8:0:1:1:1:1:1/128', '2001:db8:0:1:1:1:1:1/128'],
    ['1:0:0:2:0:0:0:3/128', '1:0:0:2::3/128'],
    ['1:2:3:4:5:6:7::/128', '1:2:3:4:5:6:7:0/128'],
    ['::2:3:4:5:6:7:8/128', '0:2:3:4:5:6:7:8/128'],
  ])('writes IPv6 in the shortest form: %s → %s', (input, expected) => {
    expect(normalised(input)).toBe(expected);
  });

  it('keeps family and prefix', () => {
    expect(networkOf(parsed('fd00::1234/64'))).toEqual({ family: 6, address: 'fd00::', prefix: 64 });
    expect(networkOf(parsed('172.17.0.2/16'))).toEqual({ family: 4, address: '172.17.0.0', prefix: 16 });
  });

  // isIPv6 accepts a dotted IPv4 tail; it is two 16-bit groups, not one.
  it('keeps IPv4-embedded IPv6 networks intact (::ffff:10.0.0.0/104)', () => {
    expect(normalised('::ffff:10.0.0.0/104')).toBe('::ffff:a00:0/104');
    expect(normalised('::ffff:10.0.0.1')).toBe('::ffff:a00:1/128');
  });
});

describe('formatCidrForPostfix', () => {
  it.each([
    ['10.0.0.0/8', '10.0.0.0/8'],
    ['127.0.0.0/8', '127.0.0.0/8'],
    ['192.168.1.10', '192.168.1.10/32'],
    ['fd00::/64', '[fd00::]/64'],
    ['::1/128', '[::1]/128'],
    ['::/0', '[::]/0'],
    ['2001:db8::/48', '[2001:db8::]/48'],
  ])('%s → %s', (input, expected) => {
    expect(formatCidrForPostfix(parsed(input))).toBe(expected);
  });

  it('differs from formatCidr only by the IPv6 brackets', () => {
    expect(formatCidr(parsed('fd00::/64'))).toBe('fd00::/64');
    expect(formatCidr(parsed('10.0.0.0/8'))).toBe(formatCidrForPostfix(parsed('10.0.0.0/8')));
  });
});
