import { isHost, isIPv6 } from '../../src/core/hosts';
test('IPv6 literals (RFC 4291 text form, no zone index) and host names', () => {
  for (const [v, ok] of [['fd00::5', true], ['::1', true], ['::', true], ['1:2:3:4:5:6:7:8', true], ['1:2:3:4:5:6:7', false], ['1::2::3', false], ['::ffff:1.2.3.4', true], ['1:2:3:4:5:6:1.2.3.4', true], ['1:2:3:4:5:6:7:1.2.3.4', false], [':1', false], ['1:', false], ['fe80::1%eth0', false], ['12345::', false]] as [string, boolean][]) expect([v, isIPv6(v)]).toEqual([v, ok]);
  expect(isHost('999.1.1.1')).toBe(true);
});
